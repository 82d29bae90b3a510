// The soak: start → cancel cycles of the scripted agent, locally and over SSH,
// then checks that nothing of them is left (processes, tmux servers and
// sockets, task dirs, file descriptors, memory); and a flood of STATUS lines
// through one session, checking none is lost, their order, and memory.
// Run it in a process of its own (bench/soak.mjs), started with --expose-gc.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createAgentTask, FileStateStore, runTask } from "../packages/agents/dist/index.js";
import { createScriptedAdapter } from "../packages/agents/dist/testing.js";
import { startTestSshd } from "../packages/host/dist/testing.js";

const CYCLE_BOUND_MS = 60_000;
const FLOOD_BOUND_MS = 600_000;
/** How long teardown's stragglers (exiting children, closing pipes) get before they count as leaks. */
const SETTLE_BOUND_MS = 10_000;
const RSS_SAMPLE_MS = 100;
/** Where tmux sockets go when the task dir's path is too long (see tmuxSessionFor). */
const LONG_PATH_SOCKET_DIR = "/tmp/optio-tmux";

const mb = (bytes) => bytes / (1024 * 1024);

function openFds() {
  return readdirSync("/proc/self/fd").length;
}

function settledRss() {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().rss;
}

function readProc(pid, what) {
  try {
    return readFileSync(`/proc/${pid}/${what}`, "utf8");
  } catch {
    return "";
  }
}

function parentOf(pid) {
  const stat = readProc(pid, "stat");
  // The command name may hold spaces and parentheses: the fields after it start past the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields[0] === "Z" ? null : Number(fields[1]);
}

function processes() {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => pid !== process.pid);
}

/**
 * Live processes that belong to a soak: anything whose command line, working
 * directory or environment names one of `roots` (the agent, its wrapper, its
 * children such as `sleep`, which inherit the workdir and HOME, and the tmux
 * server), and anything still running under the test sshd.
 */
export function leftoverProcesses(roots, sshdPid) {
  const found = [];
  const all = processes();
  for (const pid of all) {
    if (parentOf(pid) === null) continue;
    const cmdline = readProc(pid, "cmdline").replaceAll("\0", " ").trim();
    let cwd = "";
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      // Gone, or not ours to read.
    }
    const environ = readProc(pid, "environ");
    if (roots.some((r) => cmdline.includes(r) || cwd.startsWith(r) || environ.includes(r)))
      found.push({ pid, cmdline, cwd });
  }
  if (sshdPid !== null) {
    const under = new Set([sshdPid]);
    // Parents before children is not guaranteed by pid order, so repeat until nothing is added.
    for (let grew = true; grew; ) {
      grew = false;
      for (const pid of all) {
        const parent = parentOf(pid);
        if (parent !== null && under.has(parent) && !under.has(pid)) {
          under.add(pid);
          grew = true;
          if (!found.some((f) => f.pid === pid))
            found.push({ pid, cmdline: readProc(pid, "cmdline").replaceAll("\0", " ").trim(), cwd: "(under sshd)" });
        }
      }
    }
  }
  return found;
}

function sshdListenerPid(sshd) {
  // sshd rewrites its command line (setproctitle), but it keeps the config path and is our child.
  const config = path.join(sshd.dir, "sshd_config");
  for (const pid of processes()) {
    if (parentOf(pid) === process.pid && readProc(pid, "cmdline").includes(config)) return pid;
  }
  throw new Error(`the test sshd (${config}) is not running`);
}

/** What is left of the task dirs and tmux sockets of `taskDirs`. */
function leftoverPaths(taskRoots, taskDirs) {
  const left = [];
  for (const root of taskRoots)
    if (existsSync(root)) for (const entry of readdirSync(root)) left.push(path.join(root, entry));
  for (const dir of taskDirs) {
    const socket = `${LONG_PATH_SOCKET_DIR}/${createHash("sha256").update(dir).digest("hex").slice(0, 20)}.sock`;
    for (const p of [socket, `${socket}.conf`]) if (existsSync(p)) left.push(p);
  }
  return left;
}

/** Polls `check` until it returns an empty list or the bound passes; returns its last answer. */
async function settle(check) {
  const deadline = Date.now() + SETTLE_BOUND_MS;
  let left = check();
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(100);
    left = check();
  }
  return left;
}

async function bounded(what, promise, ms, onTimeout) {
  let timer;
  try {
    return await Promise.race([
      promise,
      new Promise((_, reject) => {
        timer = setTimeout(() => {
          onTimeout?.();
          reject(new Error(`soak: ${what} took over ${ms} ms`));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** One start → cancel cycle: the slow scenario, cancelled on its first tick. */
async function cycle(store, processId, ssh) {
  const task = createAgentTask(createScriptedAdapter(), {
    processId,
    name: "soak",
    config: { supportsResume: false, env: { OPTIO_SCENARIO: "slow" }, ...(ssh ? { ssh } : {}) },
  });
  let ticked = false;
  let last = "no event";
  const run = runTask(task, {
    store,
    onEvent: (event) => {
      last = JSON.stringify(event).slice(0, 300);
      if (!ticked && event.type === "progress" && event.message?.startsWith("tick ")) {
        ticked = true;
        run.cancel();
      }
    },
  });
  const outcome = await bounded(`cycle ${processId}`, run.outcome, CYCLE_BOUND_MS, () => run.cancel()).catch(
    (error) => {
      throw new Error(`${error.message}; the last event was ${last}`);
    },
  );
  return outcome.status === "cancelled" && ticked
    ? null
    : `${processId}: ${ticked ? "" : "never ticked, "}ended ${JSON.stringify(outcome)}`;
}

/** How long a cancel may take to settle the outcome on the local host. */
const CANCEL_BOUND_MS = 5_000;
/** Random cancels fall anywhere in this span after runTask: the local start sequence and the agent's first ticks. */
const RANDOM_CANCEL_SPAN_MS = 2_500;

/** A local slow-scenario task cancelled at a random instant; returns null, or why the cancel counts as lost. */
async function randomCancel(store, processId) {
  const task = createAgentTask(createScriptedAdapter(), {
    processId,
    name: "soak",
    config: { supportsResume: false, env: { OPTIO_SCENARIO: "slow" } },
  });
  const delay = Math.random() * RANDOM_CANCEL_SPAN_MS;
  const run = runTask(task, { store });
  let cancelledAt = 0;
  const timer = setTimeout(() => {
    cancelledAt = performance.now();
    run.cancel();
  }, delay);
  const outcome = await bounded(`random cancel ${processId}`, run.outcome, delay + CANCEL_BOUND_MS + 60_000, () =>
    run.cancel(),
  ).finally(() => clearTimeout(timer));
  const took = performance.now() - cancelledAt;
  if (outcome.status !== "cancelled")
    return `${processId}: cancelled ${Math.round(delay)} ms after runTask, ended ${JSON.stringify(outcome)}`;
  return took > CANCEL_BOUND_MS
    ? `${processId}: cancelled ${Math.round(delay)} ms after runTask, settled after ${Math.round(took)} ms`
    : null;
}

/** The flood scenario with `lines` STATUS lines: counts them, checks their order and samples RSS meanwhile. */
async function flood(store, lines) {
  const task = createAgentTask(createScriptedAdapter(), {
    processId: "soak-flood",
    name: "soak",
    config: { supportsResume: false, env: { OPTIO_SCENARIO: "flood", OPTIO_FLOOD_LINES: String(lines) } },
  });
  const before = settledRss();
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, RSS_SAMPLE_MS);
  let received = 0;
  let outOfOrder = 0;
  let next = 1;
  try {
    const run = runTask(task, {
      store,
      onEvent: (event) => {
        if (event.type !== "progress" || event.message === undefined) return;
        const match = /^line (\d+)$/.exec(event.message);
        if (!match) return;
        received += 1;
        const n = Number(match[1]);
        if (n !== next) outOfOrder += 1;
        next = n + 1;
      },
    });
    const outcome = await bounded("the flood", run.outcome, FLOOD_BOUND_MS, () => run.cancel());
    const bad =
      outcome.status === "done" && outcome.summary === "flooded" ? null : `the flood ended ${JSON.stringify(outcome)}`;
    peak = Math.max(peak, process.memoryUsage().rss);
    return { received, outOfOrder, growth: mb(peak - before), bad };
  } finally {
    clearInterval(sampler);
  }
}

/**
 * Runs the soak and returns its figures. `log` gets progress lines.
 * `cycles` start → cancel cycles run locally and as many over SSH; the first
 * `warmup` of each are the baseline for memory and file descriptors.
 */
export async function runSoak({
  cycles = 200,
  lines = 1_000_000,
  randomCancels = 200,
  warmup = Math.min(10, Math.floor(cycles / 2)),
  log = () => {},
} = {}) {
  // sshd starts before the roots are in the environment: it inherits it, and would match the process scan.
  const sshd = await startTestSshd();
  const root = await mkdtemp(path.join(os.tmpdir(), "optio-soak-"));
  const localRoot = path.join(root, "tasks");
  const remoteRoot = path.join(root, "remote-tasks");
  const saved = { local: process.env.OPTIO_SCRIPTED_TASK_ROOT, remote: process.env.OPTIO_SCRIPTED_REMOTE_TASK_ROOT };
  process.env.OPTIO_SCRIPTED_TASK_ROOT = localRoot;
  process.env.OPTIO_SCRIPTED_REMOTE_TASK_ROOT = remoteRoot;
  const store = new FileStateStore({ dir: path.join(root, "state") });
  const ssh = sshd.sshConfig();
  const failures = [];
  const taskDirs = [];
  const started = performance.now();
  const fdsAtStart = openFds();
  try {
    const sshdPid = sshdListenerPid(sshd);
    const runCycles = async (from, to) => {
      for (const [kind, config, taskRoot] of [
        ["local", undefined, localRoot],
        ["ssh", ssh, remoteRoot],
      ]) {
        for (let i = from; i < to; i++) {
          const processId = `soak-${kind}-${i + 1}`;
          taskDirs.push(path.join(taskRoot, processId));
          const failure = await cycle(store, processId, config).catch(
            (error) => `${processId}: ${error?.message ?? error}`,
          );
          if (failure) failures.push(failure);
        }
        log(`soak: ${kind} cycles ${from + 1}–${to} done (${Math.round((performance.now() - started) / 1000)} s)`);
      }
    };
    const roots = [localRoot, remoteRoot];
    const quiet = async () => {
      await settle(() => leftoverProcesses(roots, sshdPid));
      await settle(() => leftoverPaths(roots, taskDirs));
    };

    await runCycles(0, warmup);
    await quiet();
    const fdsAfterWarmup = openFds();
    const rssAfterWarmup = settledRss();
    const heapAfterWarmup = process.memoryUsage().heapUsed;
    await runCycles(warmup, cycles);
    const lostCancels = [];
    for (let i = 0; i < randomCancels; i++) {
      const processId = `soak-random-${i + 1}`;
      taskDirs.push(path.join(localRoot, processId));
      const lost = await randomCancel(store, processId).catch((error) => `${processId}: ${error?.message ?? error}`);
      if (lost) lostCancels.push(lost);
    }
    log(
      `soak: ${randomCancels} random-instant cancels done, ${lostCancels.length} lost (${Math.round((performance.now() - started) / 1000)} s)`,
    );
    for (const lost of lostCancels) log(`soak: lost cancel: ${lost}`);
    await quiet();
    const orphans = leftoverProcesses(roots, sshdPid);
    const paths = leftoverPaths(roots, taskDirs);
    // Pipes of exited children close a little after the exit is seen.
    await settle(() => (openFds() > fdsAfterWarmup ? ["an fd"] : []));
    const fdsAtEnd = openFds();
    const rssAtEnd = settledRss();
    const heapAtEnd = process.memoryUsage().heapUsed;
    for (const o of orphans) log(`soak: left behind: pid ${o.pid} ${o.cmdline} (cwd ${o.cwd})`);
    for (const p of paths) log(`soak: left behind: ${p}`);
    for (const f of failures) log(`soak: cycle failed: ${f}`);

    log(`soak: flooding ${lines} lines through one session`);
    const floodStarted = performance.now();
    const flooded = await flood(store, lines).catch((error) => ({
      received: 0,
      outOfOrder: 0,
      growth: 0,
      bad: `the flood failed: ${error?.message ?? error}`,
    }));
    if (flooded.bad) log(`soak: ${flooded.bad}`);
    const floodLeft = [
      ...(await settle(() => leftoverProcesses(roots, sshdPid))),
      ...(await settle(() => leftoverPaths(roots, taskDirs))),
    ];

    return {
      soak_cycles: cycles,
      soak_orphans: orphans.length + paths.length + floodLeft.length,
      soak_leaked_fds: Math.max(0, fdsAtEnd - fdsAfterWarmup),
      soak_rss_growth_mb: mb(rssAtEnd - rssAfterWarmup),
      soak_lines: lines,
      soak_lines_lost: lines - flooded.received,
      soak_lines_rss_growth_mb: flooded.growth,
      soak_lines_out_of_order: flooded.outOfOrder,
      soak_failed_cycles: failures.length + (flooded.bad ? 1 : 0),
      soak_random_cancels: randomCancels,
      soak_random_cancels_lost: lostCancels.length,
      soak_leftover_processes: orphans.length,
      soak_leftover_paths: paths.length,
      soak_fds_at_start: fdsAtStart,
      soak_fds_after_warmup: fdsAfterWarmup,
      soak_fds_at_end: fdsAtEnd,
      soak_rss_after_warmup_mb: mb(rssAfterWarmup),
      soak_heap_growth_mb: mb(heapAtEnd - heapAfterWarmup),
      soak_cycles_s: (floodStarted - started) / 1000,
      soak_lines_s: (performance.now() - floodStarted) / 1000,
    };
  } finally {
    await sshd.stop();
    await rm(root, { recursive: true, force: true });
    for (const [name, value] of [
      ["OPTIO_SCRIPTED_TASK_ROOT", saved.local],
      ["OPTIO_SCRIPTED_REMOTE_TASK_ROOT", saved.remote],
    ]) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** True when the figures show a leak or a loss. */
export function soakFailed(figures) {
  return (
    figures.soak_orphans !== 0 ||
    figures.soak_leaked_fds !== 0 ||
    figures.soak_lines_lost !== 0 ||
    figures.soak_lines_out_of_order !== 0 ||
    figures.soak_failed_cycles !== 0 ||
    figures.soak_random_cancels_lost !== 0
  );
}
