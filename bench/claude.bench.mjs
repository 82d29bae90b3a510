// Claude Code start-to-live: how long from `runTask` until a browser shows
// claude's first screen through optio's web terminal, locally and over SSH,
// against the floor: the same claude (same planted HOME, same env) started
// bare in tmux until its first screen is on the pane. Runs are interleaved
// (floor, local, ssh, floor, …) so machine noise lands on all three alike.
// The SSH runs are measured twice: against a test sshd whose login shells start
// at once, and against one whose user's ~/.bashrc sleeps SLOW_RC_S seconds (a
// host with heavy dotfiles), which every login shell on the start path pays.
// OPTIO_BENCH_TRACE=1 adds one traced session per mode and prints a per-step
// timeline (every host operation and, over SSH, every exec and SFTP round trip).
// The claude measured is the registry's latest (OPTIO_BENCH_CLAUDE_VERSION pins
// another), installed into the shared cache first when it is not there yet.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { chromium } from "playwright-core";
import { FileStateStore, runTask } from "../packages/agents/dist/index.js";
import { createClaudeCodeTask } from "../packages/claudecode/dist/index.js";
import { LocalHost, RemoteHost } from "../packages/host/dist/index.js";
import { startTestSshd } from "../packages/host/dist/testing.js";
import { benchId as id, prepareClaudeBench, startBareClaude } from "./bare-claude.mjs";

const execFileAsync = promisify(execFile);
const RUNS = 5;
const POLL_MS = 10;
const PAGE_SETTLE_MS = 1000;
const PAINT_BOUND_MS = 60_000;
const NEEDLE = "Claude Code";
const SLOW_RC_S = 0.5;
/** The claude measured: `{ version, binaryPath }` in the shared cache, set once the bench has installed it. */
let claude = null;

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const seconds = (ms) => ms / 1000;

/** The floor: claude with the adapter's planted HOME and env, started bare in tmux, until its first screen is on the pane. */
async function firstPaintBare(root, binDir) {
  const bare = await startBareClaude({ root, binDir, claude });
  try {
    for (;;) {
      const { stdout } = await bare.tmux("capture-pane", "-p", "-t", "floor");
      if (stdout.includes(NEEDLE)) return performance.now() - bare.startedAt;
      if (performance.now() - bare.startedAt > PAINT_BOUND_MS)
        throw new Error(`bare claude showed no "${NEEDLE}" within ${PAINT_BOUND_MS} ms:\n${stdout}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    await bare.stop();
  }
}

/**
 * One session from runTask until Chromium shows claude's first screen; the
 * page is opened before the clock starts (a dashboard is already open) and
 * navigates the moment the widget event names the URL.
 */
async function startToLive(
  browser,
  root,
  binDir,
  extra,
  onMark = () => {},
  processId = id(extra.ssh ? "ssh" : "local"),
) {
  const page = await browser.newPage();
  // A new page starts a renderer process; it settles before the clock starts, as a dashboard's page would have.
  await page.goto("about:blank");
  await new Promise((resolve) => setTimeout(resolve, PAGE_SETTLE_MS));
  const abort = new AbortController();
  const store = new FileStateStore({ dir: join(root, "store", processId) });
  const task = createClaudeCodeTask({
    processId,
    name: "bench",
    config: {
      installDir: binDir,
      installStrategies: ["npm-registry"],
      agentVersion: claude.version,
      permissionMode: "bypassPermissions",
      supportsResume: false,
      ...extra,
    },
  });
  let painted = null;
  let failure = null;
  // What the session said along the way, for a failed run's message.
  const said = [];
  const t0 = performance.now();
  onMark(t0, "runTask");
  // Heard as it happens: the loop below waits on the page while later events queue.
  const onEvent = (event) => {
    if (event.type === "report" || event.type === "progress")
      said.push(
        `${((performance.now() - t0) / 1000).toFixed(3)} s ${event.type === "report" ? event.level : "progress"}: ${event.message}`,
      );
  };
  const run = runTask(task, { store, signal: abort.signal, onEvent });
  try {
    for await (const event of run.events) {
      onMark(
        performance.now(),
        event.type === "progress"
          ? `progress: ${event.message}`
          : event.type === "report"
            ? `report ${event.level}: ${event.message.slice(0, 60)}`
            : event.type,
      );
      if (event.type === "widget" && event.widget && painted === null) {
        try {
          await page.goto(event.widget.url);
          onMark(performance.now(), "page loaded");
          await page.waitForFunction(
            (needle) => document.querySelector(".xterm-rows")?.textContent.includes(needle),
            NEEDLE,
            { polling: POLL_MS, timeout: PAINT_BOUND_MS },
          );
          painted = performance.now() - t0;
          onMark(performance.now(), "first paint in Chromium");
        } catch (error) {
          // What the page showed instead, so a failed run can be told apart from a slow one.
          const shown = await page
            .locator(".xterm-rows")
            .innerText()
            .catch(() => "(no terminal rows)");
          failure = new Error(
            `${error.message} (${extra.ssh ? "SSH" : "local"})\nthe page shows:\n${shown.replace(/\s+\n/g, "\n").trim()}\nthe session said:\n${said.join("\n")}`,
            { cause: error },
          );
        } finally {
          abort.abort();
        }
      }
      if (event.type === "outcome" && painted === null)
        failure ??= new Error(`the session ended before painting: ${JSON.stringify(event.outcome)}`);
    }
  } finally {
    abort.abort();
    await run.outcome;
    await page.close();
  }
  if (painted === null) throw failure ?? new Error("no terminal was published");
  return painted;
}

/** Wraps host methods (prototype-wide) to log every operation with its start and duration; returns an undo. */
function traceHosts(log) {
  const undo = [];
  const wrap = (proto, name, label) => {
    const original = proto[name];
    // A renamed method must fail the bench, not quietly leave its calls out of the trace.
    if (typeof original !== "function") throw new Error(`traceHosts: ${proto.constructor.name} has no method ${name}`);
    proto[name] = function (...args) {
      const start = performance.now();
      const result = original.apply(this, args);
      const what = `${this.kind ?? "remote"} ${label(name, args)}`;
      if (result && typeof result.then === "function") {
        return result.finally(() => log.push({ start, end: performance.now(), what }));
      }
      log.push({ start, end: start, what });
      return result;
    };
    undo.push(() => (proto[name] = original));
  };
  const short = (v) => (typeof v === "string" ? v.replace(/\s+/g, " ").slice(0, 110) : "");
  const publicOps = [
    "connect",
    "runCommand",
    "spawn",
    "writeFile",
    "readFile",
    "mkdir",
    "remove",
    "stat",
    "realpath",
    "resolveHome",
    "openPty",
    "tailFile",
    "killTree",
  ];
  for (const proto of [LocalHost.prototype, RemoteHost.prototype]) {
    for (const name of publicOps) wrap(proto, name, (n, args) => `${n} ${short(args[0])}`);
  }
  // The round trips RemoteHost makes: exec channels (bare or wrapped) and single SFTP requests.
  wrap(RemoteHost.prototype, "exec", (_n, args) => `  [exec] ${short(args[0])}`);
  wrap(RemoteHost.prototype, "startProcess", (_n, args) => `  [exec+wrapper] ${short(args[0])}`);
  wrap(sftpFilesPrototype(), "call", (_n, args) => `  [sftp] ${short(args[0])}`);
  return () => {
    for (const fn of undo) fn();
  };
}

/** The class RemoteHost sends its SFTP requests through is internal: reach its prototype through an unconnected host. */
function sftpFilesPrototype() {
  const probe = new RemoteHost({
    consumer: "bench",
    processId: "trace-probe",
    ssh: { host: "127.0.0.1", username: "bench" },
  });
  return Object.getPrototypeOf(probe.files);
}

/** Marks when claude's first screen is on its tmux pane (the remote is this machine, so its socket is reachable here too). */
async function watchPane(socket, marks, stop) {
  while (!stop.aborted) {
    const screen = await execFileAsync("tmux", ["-S", socket, "capture-pane", "-p", "-t", "optio"], {
      env: { ...process.env, TMUX: "" },
    }).then(
      (r) => r.stdout,
      () => "",
    );
    if (screen.includes(NEEDLE)) {
      const t = performance.now();
      marks.push({ start: t, end: t, what: "== first paint on the tmux pane" });
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function tracedSession(browser, root, binDir, extra, label = extra.ssh ? "ssh" : "local") {
  const log = [];
  const marks = [];
  const untrace = traceHosts(log);
  const processId = id(extra.ssh ? "ssh" : "local");
  const stop = new AbortController();
  const pane = watchPane(join(root, extra.ssh ? "remote-tasks" : "tasks", processId, "tmux.sock"), marks, stop.signal);
  let total;
  try {
    total = await startToLive(
      browser,
      root,
      binDir,
      extra,
      (t, what) => marks.push({ start: t, end: t, what: `== ${what}` }),
      processId,
    );
  } finally {
    untrace();
    stop.abort();
    await pane;
  }
  const t0 = marks[0].start;
  const firstPaint = marks.find((m) => m.what.includes("first paint in Chromium")).start;
  const shown = Math.max(firstPaint, ...marks.filter((m) => m.what.includes("first paint")).map((m) => m.start));
  const rows = [...marks, ...log].filter((r) => r.start <= shown).sort((a, b) => a.start - b.start);
  const lines = rows.map(
    (r) =>
      `${(r.start - t0).toFixed(0).padStart(6)} ms ${r.end > r.start ? `+${(r.end - r.start).toFixed(0).padStart(4)}` : "     "}  ${r.what}`,
  );
  const execs = log.filter((r) => r.start <= firstPaint && /\[exec/.test(r.what)).length;
  const sftp = log.filter((r) => r.start <= firstPaint && /\[sftp\]/.test(r.what)).length;
  process.stderr.write(
    `  trace (${label}): ${seconds(total).toFixed(3)} s to first paint${extra.ssh ? `; ${execs} exec round trips, ${sftp} SFTP requests before it` : ""}\n${lines.map((l) => `    ${l}`).join("\n")}\n`,
  );
  return { execs, sftp };
}

export default async function claudeBench() {
  const prepared = await prepareClaudeBench("claude", process.env.OPTIO_BENCH_CLAUDE_VERSION || undefined);
  claude = prepared.claude;
  const { root, binDir } = prepared;
  const [browser, sshd, slowSshd] = await Promise.all([
    chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    }),
    startTestSshd(),
    startTestSshd(),
  ]);
  await writeFile(join(slowSshd.home, ".bashrc"), `sleep ${SLOW_RC_S}\n`);
  const ssh = sshd.sshConfig({ readyTimeoutMs: 60_000 });
  const slowSsh = slowSshd.sshConfig({ readyTimeoutMs: 60_000 });
  try {
    const floor = [];
    const local = [];
    const remote = [];
    const slow = [];
    for (let i = 0; i < RUNS; i++) {
      floor.push(await firstPaintBare(root, binDir));
      local.push(await startToLive(browser, root, binDir, {}));
      remote.push(await startToLive(browser, root, binDir, { ssh }));
      slow.push(await startToLive(browser, root, binDir, { ssh: slowSsh }));
    }
    const fmt = (xs) => xs.map((x) => seconds(x).toFixed(3)).join(" ");
    process.stderr.write(
      `  runs (s): floor ${fmt(floor)} | local ${fmt(local)} | ssh ${fmt(remote)} | ssh, slow rc ${fmt(slow)}\n`,
    );
    const metrics = {
      claude_first_paint_s: seconds(median(floor)),
      start_to_live_local_s: seconds(median(local)),
      start_to_live_ssh_s: seconds(median(remote)),
      start_to_live_ssh_slow_rc_s: seconds(median(slow)),
    };
    if (process.env.OPTIO_BENCH_TRACE) {
      await tracedSession(browser, root, binDir, {});
      const { execs, sftp } = await tracedSession(browser, root, binDir, { ssh });
      metrics.start_to_live_ssh_execs = execs;
      metrics.start_to_live_ssh_sftp_requests = sftp;
      await tracedSession(browser, root, binDir, { ssh: slowSsh }, "ssh, slow rc");
    }
    return metrics;
  } finally {
    await browser.close();
    await Promise.all([sshd.stop(), slowSshd.stop()]);
    await prepared.cleanup();
  }
}
