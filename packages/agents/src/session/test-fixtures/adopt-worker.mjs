// A worker process for the adoption tests: runs the scripted agent's
// interactive scenario from the built packages and prints its events as JSON
// lines. Mode "start" starts the task; "resume" continues it (adopting the
// agent when it still runs). beforeExecute prints a {"type":"beforeExecute"}
// line; onResumeRefresh swaps the instructions. OPTIO_TEST_SSH, when set, is the JSON ssh config.
import { createAgentTask, FileStateStore, runTask } from "../../../dist/index.js";
import { createScriptedAdapter } from "../../../dist/testing.js";

const [mode, stateDir, processId] = process.argv.slice(2);
const ssh = process.env.OPTIO_TEST_SSH ? JSON.parse(process.env.OPTIO_TEST_SSH) : undefined;

const task = createAgentTask(createScriptedAdapter(), {
  processId,
  name: "adoption across processes",
  config: {
    consumerInstructions: "the first instructions",
    env: { OPTIO_SCENARIO: "interactive" },
    ...(ssh ? { ssh } : {}),
    beforeExecute: () => process.stdout.write(`${JSON.stringify({ type: "beforeExecute" })}\n`),
    onResumeRefresh: (config) => ({ ...config, consumerInstructions: "the refreshed instructions" }),
  },
});
const run = runTask(task, { store: new FileStateStore({ dir: stateDir }), resume: mode === "resume" });
for await (const event of run.events) process.stdout.write(`${JSON.stringify(event)}\n`);
const outcome = await run.outcome;
process.exitCode = outcome.status === "done" ? 0 : 1;
