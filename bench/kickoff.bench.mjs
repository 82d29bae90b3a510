// A task doing its job by itself: the real claude against the scripted model
// (`startScriptedModel`, 127.0.0.1), kicked off with its instructions.
//   kickoff_first_request_{local,ssh}_s: from runTask to the model's first
//     conversation request (the first one carrying tools);
//   task_done_local_s: a three-turn scripted task from runTask to outcome done;
//   task_done_ssh_s: the same over SSH (no goal; for the record);
// against the floor, the same claude (same planted HOME, env and kickoff argv)
// started bare in tmux doing the same turns:
//   bare_first_request_s: from asking tmux to start it to the first conversation request;
//   bare_task_done_s: to the scripted model having served its last turn and the
//     DONE line being in optio.log.
// Runs are interleaved (floor, local, ssh, floor, …) so machine noise lands on all
// three alike. OPTIO_BENCH_TRACE=1 prints each optio run's events on a timeline.
// The claude measured is the one the real-binary tests pin (OPTIO_BENCH_CLAUDE_VERSION
// picks another): the scripted model speaks what that version asks for.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { FileStateStore, runTask } from "../packages/agents/dist/index.js";
import { composeInstructions, isConversationRequest, startScriptedModel } from "../packages/agents/dist/testing.js";
import { claudeCode, createClaudeCodeTask } from "../packages/claudecode/dist/index.js";
import { startTestSshd } from "../packages/host/dist/testing.js";
import { BENCH_API_KEY, benchId, PINNED_CLAUDE, prepareClaudeBench, startBareClaude } from "./bare-claude.mjs";
import { withBound } from "./bench-lib.mjs";

const RUNS = 5;
const POLL_MS = 10;
const RUN_BOUND_MS = 180_000;
const INSTRUCTIONS = "Write a three-line poem about tmux into deliverables/poem.txt.";
const KICKOFF = "Read CLAUDE.md and carry out the task it describes, reporting in optio.log as it explains.";
const bash = (command) => ({ name: "Bash", input: { command, description: command } });
/** Three turns of work, each one tool call; the last one writes DONE. */
const TURNS = [
  {
    toolCalls: [
      bash(
        "mkdir -p deliverables && printf 'panes wait\\nthe agent works\\nthe log ends\\n' > deliverables/poem.txt && echo 'STATUS: 50% poem written' >> optio.log",
      ),
    ],
  },
  { toolCalls: [bash("echo 'DELIVERABLE: deliverables/poem.txt' >> optio.log")] },
  { toolCalls: [bash("echo 'DONE: wrote a poem' >> optio.log")] },
];

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const seconds = (ms) => ms / 1000;

/** The moment (performance.now()) the model gets its first conversation request. */
async function firstRequestAt(model) {
  await model.waitForRequest(isConversationRequest, RUN_BOUND_MS);
  return performance.now();
}

/** The moment the model has served its last turn and a DONE line is in `log` (NaN once `stop` aborts first). */
async function doneInLogAt(log, model, stop) {
  while (!stop.aborted) {
    const text = model.turnsUsed === TURNS.length ? await readFile(log, "utf8").catch(() => "") : "";
    if (/^DONE/m.test(text)) return performance.now();
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return Number.NaN;
}

/** The floor: bare claude in tmux with the same HOME, env, instructions and kickoff, until DONE after the last turn. */
async function bareRun(root, binDir, claude) {
  const model = await startScriptedModel({ turns: TURNS });
  const bare = await startBareClaude({
    root,
    binDir,
    claude,
    configInput: {
      apiBaseUrl: model.url,
      env: { ANTHROPIC_API_KEY: BENCH_API_KEY },
      consumerInstructions: INSTRUCTIONS,
    },
    files: {
      "CLAUDE.md": composeInstructions({ mode: claudeCode.browser, consumerInstructions: INSTRUCTIONS, resume: null }),
      "optio.log": "",
    },
    firstMessage: KICKOFF,
  });
  const stopped = new AbortController();
  try {
    const first = firstRequestAt(model);
    const done = doneInLogAt(join(bare.workdir, "optio.log"), model, stopped.signal);
    const both = Promise.all([first, done]);
    both.catch(() => {});
    const [firstAt, doneAt] = await withBound("the bare claude's task", both, RUN_BOUND_MS);
    return { first: firstAt - bare.startedAt, done: doneAt - bare.startedAt };
  } finally {
    stopped.abort();
    await bare.stop();
    await model.close();
  }
}

/** One optio task from runTask to outcome done, noting when the model got its first request. */
async function optioRun(root, binDir, claude, extra, trace) {
  const model = await startScriptedModel({ turns: TURNS });
  const processId = benchId(extra.ssh ? "ssh" : "local");
  const task = createClaudeCodeTask({
    processId,
    name: "bench",
    config: {
      installDir: binDir,
      installStrategies: ["npm-registry"],
      agentVersion: claude.version,
      permissionMode: "bypassPermissions",
      supportsResume: false,
      consumerInstructions: INSTRUCTIONS,
      kickoffPrompt: KICKOFF,
      apiBaseUrl: model.url,
      env: { ANTHROPIC_API_KEY: BENCH_API_KEY },
      ...extra,
    },
  });
  const marks = [];
  const mark = (what) => marks.push([performance.now(), what]);
  const abort = new AbortController();
  const t0 = performance.now();
  const run = runTask(task, {
    store: new FileStateStore({ dir: join(root, "store", processId) }),
    signal: abort.signal,
    onEvent: (e) =>
      mark(
        e.type === "progress"
          ? `progress: ${e.message}`
          : e.type === "report"
            ? `report ${e.level}: ${e.message.slice(0, 60)}`
            : e.type,
      ),
  });
  try {
    const first = firstRequestAt(model).then((at) => (mark("== first conversation request"), at));
    // The remote is this machine: either way the workdir is readable here.
    if (trace)
      void doneInLogAt(
        join(root, extra.ssh ? "remote-tasks" : "tasks", processId, "workdir", "optio.log"),
        model,
        abort.signal,
      ).then((at) => at && marks.push([at, "== DONE in optio.log"]));
    // Awaited only once the task is done: a run that fails first must not leave it rejecting unheard.
    first.catch(() => {});
    const outcome = await withBound(`the ${extra.ssh ? "SSH" : "local"} task`, run.outcome, RUN_BOUND_MS);
    const doneAt = performance.now();
    if (outcome.status !== "done") throw new Error(`the task ended ${JSON.stringify(outcome)}`);
    if (trace)
      process.stderr.write(
        `  trace (${extra.ssh ? "ssh" : "local"}):\n${marks
          .sort((a, b) => a[0] - b[0])
          .map(([t, what]) => `    ${(t - t0).toFixed(0).padStart(6)} ms  ${what}`)
          .join("\n")}\n`,
      );
    return { first: (await first) - t0, done: doneAt - t0 };
  } finally {
    abort.abort();
    await run.outcome.catch(() => {});
    await model.close();
  }
}

export default async function kickoffBench() {
  const { claude, root, binDir, cleanup } = await prepareClaudeBench(
    "kickoff",
    process.env.OPTIO_BENCH_CLAUDE_VERSION || PINNED_CLAUDE,
  );
  const sshd = await startTestSshd();
  const ssh = sshd.sshConfig({ readyTimeoutMs: 60_000 });
  const trace = Boolean(process.env.OPTIO_BENCH_TRACE);
  try {
    const floor = [];
    const local = [];
    const remote = [];
    for (let i = 0; i < RUNS; i++) {
      floor.push(await bareRun(root, binDir, claude));
      local.push(await optioRun(root, binDir, claude, {}, trace));
      remote.push(await optioRun(root, binDir, claude, { ssh }, trace));
    }
    const fmt = (runs, key) => runs.map((r) => seconds(r[key]).toFixed(3)).join(" ");
    for (const key of ["first", "done"])
      process.stderr.write(
        `  runs to ${key} (s): floor ${fmt(floor, key)} | local ${fmt(local, key)} | ssh ${fmt(remote, key)}\n`,
      );
    const at = (runs, key) => seconds(median(runs.map((r) => r[key])));
    return {
      bare_first_request_s: at(floor, "first"),
      kickoff_first_request_local_s: at(local, "first"),
      kickoff_first_request_ssh_s: at(remote, "first"),
      bare_task_done_s: at(floor, "done"),
      task_done_local_s: at(local, "done"),
      task_done_ssh_s: at(remote, "done"),
    };
  } finally {
    await sshd.stop();
    await cleanup();
  }
}
