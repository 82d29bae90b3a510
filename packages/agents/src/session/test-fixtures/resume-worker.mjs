// A worker process for the across-process resume tests: runs one session of
// the scripted agent from the built packages and prints its events as JSON lines.
// Modes: "start" (fresh), "resume", and "die-mid-capture" (resume, overwrite
// notes.txt, then SIGKILL itself while the snapshot's workdir blob is being written).
import { createAgentTask, FileStateStore, runTask } from "../../../dist/index.js";
import { createScriptedAdapter } from "../../../dist/testing.js";

const [mode, stateDir, processId, scenario] = process.argv.slice(2);

/** A store that kills this process while tar fills the workdir blob's temp file: after the private blob, before any record. */
class DyingStore extends FileStateStore {
  putBlobFile(fill) {
    return super.putBlobFile(async (file) => {
      const filling = fill(file);
      while ((await file.stat()).size === 0) await new Promise((resolve) => setTimeout(resolve, 1));
      process.kill(process.pid, "SIGKILL");
      await filling;
    });
  }
}

const task = createAgentTask(createScriptedAdapter(), {
  processId,
  name: "resume across processes",
  config: {
    consumerInstructions: "keep working",
    env: { OPTIO_SCENARIO: scenario },
    async beforeExecute(hook) {
      if (mode === "start") await hook.host.writeText("notes.txt", "kept across processes\n");
      else {
        const notes = await hook.readTextFromHost("notes.txt");
        const conversation = await hook.readTextFromHost("home/.scripted/conversation");
        process.stdout.write(`${JSON.stringify({ type: "restored", notes, conversation })}\n`);
        if (mode === "die-mid-capture") await hook.host.writeText("notes.txt", "never saved\n");
      }
    },
  },
});
const store = mode === "die-mid-capture" ? new DyingStore({ dir: stateDir }) : new FileStateStore({ dir: stateDir });
const run = runTask(task, { store, resume: mode !== "start", handleSigint: true });
for await (const event of run.events) process.stdout.write(`${JSON.stringify(event)}\n`);
const outcome = await run.outcome;
process.exitCode = outcome.status === "done" ? 0 : outcome.status === "cancelled" ? 130 : 1;
