// A worker process for the across-process resume test: runs one session of
// the scripted agent from the built packages and prints its events as JSON lines.
import { createAgentTask, FileStateStore, runTask } from "../../../dist/index.js";
import { createScriptedAdapter } from "../../../dist/testing.js";

const [mode, stateDir, processId, scenario] = process.argv.slice(2);
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
      }
    },
  },
});
const run = runTask(task, { store: new FileStateStore({ dir: stateDir }), resume: mode === "resume", handleSigint: true });
for await (const event of run.events) process.stdout.write(`${JSON.stringify(event)}\n`);
const outcome = await run.outcome;
process.exitCode = outcome.status === "done" ? 0 : outcome.status === "cancelled" ? 130 : 1;
