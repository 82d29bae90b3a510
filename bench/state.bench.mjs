// How soon optio says a permission prompt waits: the real claude against the
// scripted model, in a permission mode that asks, makes one Bash call; the
// bench polls the task's tmux pane itself (not through optio) for the menu
// being drawn, and times the `waiting-permission` agent-state event against it.
//   state_event_{local,ssh}_p99_ms: event time minus the first poll that saw the
//     menu on the pane, p99 over the runs.
// claude runs its PermissionRequest hook as it draws the menu, so the event can
// come first and a delta can be negative: the figures are reported as measured.
// The pane is polled every POLL_MS with `tmux capture-pane`, so "drawn" is late by
// up to one poll and one capture (a few ms), which makes a delta smaller.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { FileStateStore, runTask } from "../packages/agents/dist/index.js";
import { startScriptedModel } from "../packages/agents/dist/testing.js";
import { createClaudeCodeTask } from "../packages/claudecode/dist/index.js";
import { startTestSshd } from "../packages/host/dist/testing.js";
import { BENCH_API_KEY, benchId, PINNED_CLAUDE, prepareClaudeBench } from "./bare-claude.mjs";
import { percentile, withBound } from "./bench-lib.mjs";

const execFileAsync = promisify(execFile);
const RUNS = 10;
const POLL_MS = 5;
const RUN_BOUND_MS = 180_000;
const MENU = "Do you want to proceed?";
const TURNS = [
  { toolCalls: [{ name: "Bash", input: { command: "echo 'DONE: asked' >> optio.log", description: "Report DONE" } }] },
  { text: "Done." },
];

/** The moment (performance.now()) the menu is first seen on the pane behind `socket`; NaN once `stop` aborts first. */
async function menuDrawnAt(socket, stop) {
  while (!stop.aborted) {
    const screen = await execFileAsync("tmux", ["-S", socket, "capture-pane", "-p", "-t", "optio"], {
      env: { ...process.env, TMUX: "" },
    }).then(
      (r) => r.stdout,
      () => "",
    );
    if (screen.includes(MENU)) return performance.now();
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return Number.NaN;
}

/** One task up to its permission menu: milliseconds from the menu on the pane to the waiting-permission event. */
async function stateRun({ root, binDir, claude }, extra) {
  const model = await startScriptedModel({ turns: TURNS });
  const processId = benchId(extra.ssh ? "ssh" : "local");
  const config = {
    installDir: binDir,
    installStrategies: ["npm-registry"],
    agentVersion: claude.version,
    permissionMode: "default",
    supportsResume: false,
    consumerInstructions: "Report DONE.",
    apiBaseUrl: model.url,
    env: { ANTHROPIC_API_KEY: BENCH_API_KEY },
    ...extra,
  };
  const stop = new AbortController();
  let eventAt = Number.NaN;
  let heard;
  const event = new Promise((resolve) => (heard = resolve));
  const onEvent = (e) => {
    if (e.type !== "agent-state" || e.state !== "waiting-permission" || !Number.isNaN(eventAt)) return;
    eventAt = performance.now();
    heard();
  };
  const run = runTask(createClaudeCodeTask({ processId, name: "bench", config }), {
    store: new FileStateStore({ dir: join(root, "store", processId) }),
    signal: stop.signal,
    onEvent,
  });
  // The remote is this machine: its pane's socket is reachable here either way.
  const drawn = menuDrawnAt(join(root, extra.ssh ? "remote-tasks" : "tasks", processId, "tmux.sock"), stop.signal);
  const both = Promise.all([drawn, event]);
  both.catch(() => {});
  try {
    const [drawnAt] = await withBound(`the ${extra.ssh ? "SSH" : "local"} task's permission menu`, both, RUN_BOUND_MS);
    return eventAt - drawnAt;
  } finally {
    stop.abort();
    await Promise.allSettled([run.outcome, drawn]);
    await model.close();
  }
}

export default async function stateBench() {
  const prepared = await prepareClaudeBench("state", process.env.OPTIO_BENCH_CLAUDE_VERSION || PINNED_CLAUDE);
  const sshd = await startTestSshd();
  const hosts = { local: {}, ssh: { ssh: sshd.sshConfig({ readyTimeoutMs: 60_000 }) } };
  const deltas = { local: [], ssh: [] };
  try {
    // Interleaved, so machine noise lands on both alike.
    for (let i = 0; i < RUNS; i++)
      for (const [kind, extra] of Object.entries(hosts)) deltas[kind].push(await stateRun(prepared, extra));
    const fmt = (xs) => xs.map((x) => x.toFixed(1)).join(" ");
    process.stderr.write(`  event minus menu on the pane (ms): local ${fmt(deltas.local)} | ssh ${fmt(deltas.ssh)}\n`);
    return {
      state_event_local_p99_ms: percentile(deltas.local, 99),
      state_event_ssh_p99_ms: percentile(deltas.ssh, 99),
    };
  } finally {
    await sshd.stop();
    await prepared.cleanup();
  }
}
