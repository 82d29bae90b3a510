// The worker process of bench/session.bench.mjs: runs real sessions of the
// scripted adapter in this process and prints one JSON line of figures, so
// the bench harness's own memory is never counted in the worker's peak RSS.
//
//   node bench/session-worker.mjs concurrent   50 sessions at once, 1,000 STATUS lines and a deliverable each
//   node bench/session-worker.mjs latency      one session, ~500 stamped STATUS lines a few ms apart
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createAgentTask, FileStateStore, runTask } from "../packages/agents/dist/index.js";
import { createScriptedAdapter } from "../packages/agents/dist/testing.js";
import { percentile, withBound } from "./bench-lib.mjs";

const SESSIONS = 50;
const LINES_PER_SESSION = 1000;
const LATENCY_SAMPLES = 500;
const LATENCY_EVERY_MS = 4;
const BOUND_MS = 300_000;

/** The scripted adapter, but the agent is the given argv (run in the workdir). */
function commandAdapter(argv) {
  return { ...createScriptedAdapter(), command: () => ({ argv, env: {} }) };
}

async function concurrent(_root, store) {
  const script = [
    `awk 'BEGIN { for (i = 1; i <= ${LINES_PER_SESSION}; i++) print "STATUS: line " i }' >> optio.log`,
    "mkdir -p deliverables",
    "printf '# Report\\n\\nAll good.\\n' > deliverables/report.md",
    "echo 'DELIVERABLE: deliverables/report.md' >> optio.log",
    "echo 'DONE: bench' >> optio.log",
  ].join("; ");
  const adapter = commandAdapter(["/bin/sh", "-c", script]);
  let received = 0;
  let delivered = 0;
  let outOfOrder = 0;
  const started = performance.now();
  const outcomes = await withBound(
    "50 concurrent sessions",
    Promise.all(
      Array.from({ length: SESSIONS }, (_, i) => {
        let next = 1;
        const task = createAgentTask(adapter, {
          processId: `bench-${i + 1}`,
          name: "bench",
          config: {
            supportsResume: false,
            onDeliverable: (_hook, relative, text) => {
              if (relative === "report.md" && text.includes("All good.")) delivered += 1;
            },
          },
        });
        const onEvent = (event) => {
          if (event.type !== "progress" || event.message === undefined) return;
          const match = /^line (\d+)$/.exec(event.message);
          if (!match) return;
          received += 1;
          if (Number(match[1]) !== next) outOfOrder += 1;
          next = Number(match[1]) + 1;
        };
        return runTask(task, { store, onEvent }).outcome;
      }),
    ),
    BOUND_MS,
  );
  const wall = (performance.now() - started) / 1000;
  const failed = outcomes.filter((o) => o.status !== "done");
  if (failed.length > 0) throw new Error(`${failed.length} sessions did not end done: ${JSON.stringify(failed[0])}`);
  const expected = SESSIONS * (LINES_PER_SESSION + 1);
  return {
    concurrent50_wall_s: wall,
    concurrent50_lost_events: expected - received - delivered,
    concurrent50_out_of_order: outOfOrder,
  };
}

// The agent stamps each line with the wall clock at the moment it appends it
// (performance.timeOrigin + now() has sub-millisecond resolution and shares
// CLOCK_REALTIME with this process); it starts only once the session's tail is
// known to be live (the worker answers its "ready" line with a go file).
const WRITER = `
const fs = require("node:fs");
const fd = fs.openSync("optio.log", "a");
fs.writeSync(fd, "STATUS: ready\\n");
const wait = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  const deadline = Date.now() + 60000;
  while (!fs.existsSync("go")) {
    if (Date.now() > deadline) { fs.writeSync(fd, "ERROR: no go file\\n"); process.exit(1); }
    await wait(2);
  }
  for (let i = 0; i < ${LATENCY_SAMPLES}; i++) {
    fs.writeSync(fd, "STATUS: stamp " + (performance.timeOrigin + performance.now()) + "\\n");
    await wait(${LATENCY_EVERY_MS});
  }
  fs.writeSync(fd, "DONE: stamped\\n");
})();
`;

async function latency(root, store) {
  const processId = "bench-latency";
  const workdir = path.join(root, "tasks", processId, "workdir");
  const task = createAgentTask(commandAdapter([process.execPath, "-e", WRITER]), {
    processId,
    name: "bench",
    config: { supportsResume: false },
  });
  const samples = [];
  const onEvent = (event) => {
    if (event.type !== "progress" || event.message === undefined) return;
    if (event.message.startsWith("stamp ")) {
      samples.push(performance.timeOrigin + performance.now() - Number(event.message.slice(6)));
    } else if (event.message === "ready") {
      void writeFile(path.join(workdir, "go"), "");
    }
  };
  const outcome = await withBound("the latency session", runTask(task, { store, onEvent }).outcome, BOUND_MS);
  if (outcome.status !== "done") throw new Error(`the latency session ended ${JSON.stringify(outcome)}`);
  if (samples.length !== LATENCY_SAMPLES) throw new Error(`got ${samples.length} of ${LATENCY_SAMPLES} stamped lines`);
  samples.sort((a, b) => a - b);
  return {
    event_local_p50_ms: percentile(samples, 50),
    event_local_p99_ms: percentile(samples, 99),
    event_local_max_ms: samples[samples.length - 1],
  };
}

const mode = process.argv[2];
const root = await mkdtemp(path.join(os.tmpdir(), "optio-bench-session-"));
process.env.OPTIO_SCRIPTED_TASK_ROOT = path.join(root, "tasks");
const store = new FileStateStore({ dir: path.join(root, "state") });
try {
  let figures;
  if (mode === "concurrent") figures = await concurrent(root, store);
  else if (mode === "latency") figures = await latency(root, store);
  else throw new Error(`usage: session-worker.mjs concurrent|latency (got ${mode})`);
  figures.peak_rss_mb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} finally {
  await rm(root, { recursive: true, force: true });
  if (existsSync(root)) process.stderr.write(`session-worker: ${root} was not removed\n`);
}
