// The web terminal: keystroke-to-paint latency in real Chromium (and, as
// keystroke_socket_*, the part until the echo reaches the page's socket), and
// a `yes` flood's throughput to the page and the worker's peak memory meanwhile.
//
// Keys are typed at a typist's pace: 30–130 ms apart, drawn from a seeded
// generator so every run types the same rhythm. Chromium paints at most once
// per 16.7 ms frame, and a key pressed the instant the previous echo was
// painted always lands right after a frame; typed that way (about 50 keys a
// second, keystroke_burst_*) nearly every echo waits most of a frame.
// The worker (LocalHost, tmux sessions, TerminalServer) runs in its own
// process so its peak RSS is not mixed up with the browser driver's.
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";
import { percentile } from "./bench-lib.mjs";

const SAMPLES = 200;
const BURST_SAMPLES = 100;
const LETTERS = "abcdefghijklmnopqrstuvwxyz";
/** The pause before each key at a typist's pace, in ms. */
const GAP_MIN_MS = 30;
const GAP_SPAN_MS = 100;
/** Keystrokes typed before measuring: the first ones pay for Chromium's and xterm's first-use work (tens of ms). */
const WARMUP = 10;
const agentsUrl = new URL("../packages/agents/dist/terminal.js", import.meta.url).href;
const hostUrl = new URL("../packages/host/dist/index.js", import.meta.url).href;

const WORKER = `
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TerminalServer } from ${JSON.stringify(agentsUrl)};
import { LocalHost, shellCommand } from ${JSON.stringify(hostUrl)};
const floodSeconds = process.argv[1];
const root = await mkdtemp(join(tmpdir(), "optio-bench-terminal-"));
const host = new LocalHost({ consumer: "optio-bench", processId: "terminal", env: { OPTIO_BENCH_TASK_ROOT: root } });
await host.connect();
const tmux = (session, ...args) => shellCommand(["env", "-u", "TMUX", "tmux", "-S", session.socket, ...args]);
const echo = { socket: host.taskDir + "/echo.sock", name: "echo" };
const flood = { socket: host.taskDir + "/flood.sock", name: "flood" };
await host.runChecked(tmux(echo, "-f", "/dev/null", "new-session", "-d", "-s", "echo", "-c", host.workdir, "echo echo-ready; exec cat"));
await host.runChecked(tmux(flood, "-f", "/dev/null", "new-session", "-d", "-s", "flood", "-c", host.workdir,
  "echo flood-ready; read _; timeout " + floodSeconds + " yes; echo flood-done; exec sleep 3600"));
// As a session's tmux config has it: with the status line on, tmux redraws it every second, and a keystroke echoed then waits ~10 ms more.
for (const session of [echo, flood]) await host.runChecked(tmux(session, "set", "-g", "status", "off"));
const server = await TerminalServer.start();
process.stdout.write(JSON.stringify({ echo: server.publish("echo", { host, session: echo }).url, flood: server.publish("flood", { host, session: flood }).url }) + "\\n");
process.stdin.resume();
process.stdin.on("end", async () => {
  await server.close();
  await host.runCommand(tmux(echo, "kill-server"));
  await host.runCommand(tmux(flood, "kill-server"));
  await host.disconnect();
  await rm(root, { recursive: true, force: true });
  process.exit(0);
});
`;

async function startWorker() {
  const child = spawn(process.execPath, ["--input-type=module", "-e", WORKER, String(FLOOD_SECONDS)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const first = await Promise.race([
    new Promise((resolve) => lines.once("line", resolve)),
    new Promise((_, reject) => child.once("exit", (code) => reject(new Error(`bench worker exited with ${code}`)))),
  ]);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  return {
    urls: JSON.parse(first),
    /** Peak resident set of the worker since it started (Linux). */
    async peakRssMb() {
      const status = await readFile(`/proc/${child.pid}/status`, "utf8");
      return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]) / 1024;
    },
    async stop() {
      child.stdin.end();
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      child.kill("SIGKILL");
    },
  };
}
const FLOOD_SECONDS = 10;

async function measureKeystrokes(browser, url) {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(
    () =>
      window.optioTerminal?.socket.readyState === 1 &&
      document.querySelector(".xterm-rows")?.textContent.includes("echo-ready"),
    null,
    { timeout: 15_000 },
  );
  await page.locator(".xterm").click();
  await page.evaluate(() => {
    const { term } = window.optioTerminal;
    const cursorLine = () => {
      const buffer = term.buffer.active;
      return buffer.getLine(buffer.baseY + buffer.cursorY)?.translateToString(true) ?? "";
    };
    const bench = {
      samples: [],
      toSocket: [],
      pending: null,
      cursorLine,
      waiter: null,
      /** Resolves once `n` samples are in, without polling the page. */
      until(n) {
        return bench.samples.length >= n
          ? Promise.resolve()
          : new Promise((resolve) => (bench.waiter = { n, resolve }));
      },
    };
    window.optioBench = bench;
    // When the echo reaches the page: what is left after it is xterm's parse and the wait for the next frame.
    window.optioTerminal.socket.addEventListener("message", (event) => {
      if (bench.pending && bench.pending.tSocket === undefined && typeof event.data !== "string")
        bench.pending.tSocket = performance.now();
    });
    // Capture phase: the moment the keydown reaches the page, before xterm sees it.
    window.addEventListener(
      "keydown",
      (event) => {
        if (event.key.length === 1) bench.pending = { t0: performance.now(), expect: cursorLine() + event.key };
      },
      true,
    );
    term.onRender(() => {
      if (bench.pending && cursorLine().startsWith(bench.pending.expect)) {
        const now = performance.now();
        bench.samples.push(now - bench.pending.t0);
        bench.toSocket.push((bench.pending.tSocket ?? now) - bench.pending.t0);
        bench.pending = null;
        if (bench.waiter && bench.samples.length >= bench.waiter.n) {
          bench.waiter.resolve();
          bench.waiter = null;
        }
      }
    });
  });
  await typeSamples(page, WARMUP, () => 0);
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => window.optioBench.cursorLine() === "", null, { timeout: 5000 });
  const typed = await typeSamples(page, SAMPLES, nextGap(0x5eed));
  const burst = await typeSamples(page, BURST_SAMPLES, () => 0);
  await page.close();
  return { typed, burst };
}

/** A seeded generator of pauses between keys (mulberry32), so runs are comparable. */
function nextGap(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    const unit = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return GAP_MIN_MS + unit * GAP_SPAN_MS;
  };
}

/** Types `count` keys, each after `gap()` ms, and returns each one's time to paint and to the socket. */
async function typeSamples(page, count, gap) {
  await page.evaluate(() => {
    window.optioBench.samples = [];
    window.optioBench.toSocket = [];
  });
  for (let i = 0; i < count; i++) {
    const pause = gap();
    if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
    const painted = page.evaluate((n) => window.optioBench.until(n), i + 1);
    await page.keyboard.press(LETTERS[i % LETTERS.length]);
    await painted;
    if ((i + 1) % 40 === 0) {
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => window.optioBench.cursorLine() === "", null, { timeout: 5000 });
    }
  }
  const { samples, toSocket } = await page.evaluate(() => ({
    samples: window.optioBench.samples,
    toSocket: window.optioBench.toSocket,
  }));
  if (process.env.OPTIO_BENCH_VERBOSE)
    process.stderr.write(
      `  keystroke samples (ms, to socket/to paint): ${samples.map((v, i) => `${toSocket[i].toFixed(1)}/${v.toFixed(1)}`).join(" ")}\n`,
    );
  return { samples, toSocket };
}

async function measureFlood(browser, url) {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(
    () =>
      window.optioTerminal?.socket.readyState === 1 &&
      document.querySelector(".xterm-rows")?.textContent.includes("flood-ready"),
    null,
    { timeout: 15_000 },
  );
  await page.evaluate(() => {
    const stats = { bytes: 0, first: 0, last: 0, socket: window.optioTerminal.socket };
    window.optioFlood = stats;
    stats.socket.addEventListener("message", (event) => {
      if (typeof event.data === "string") return;
      const now = performance.now();
      if (stats.bytes === 0) stats.first = now;
      stats.last = now;
      stats.bytes += event.data.byteLength;
    });
  });
  await page.locator(".xterm").click();
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.querySelector(".xterm-rows")?.textContent.includes("flood-done"), null, {
    timeout: (FLOOD_SECONDS + 30) * 1000,
    polling: 200,
  });
  const stats = await page.evaluate(() => {
    const { bytes, first, last, socket } = window.optioFlood;
    return { bytes, first, last, reconnected: socket !== window.optioTerminal.socket };
  });
  await page.close();
  // Bytes are counted on the page's first socket: after a reconnect the count would stop short.
  if (stats.reconnected) throw new Error("the flood page reconnected during the flood; its byte count is incomplete");
  return { mb: stats.bytes / 1024 / 1024, seconds: (stats.last - stats.first) / 1000 };
}

export default async function () {
  const worker = await startWorker();
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const { typed, burst } = await measureKeystrokes(browser, worker.urls.echo);
    const flood = await measureFlood(browser, worker.urls.flood);
    return {
      keystroke_p50_ms: percentile(typed.samples, 50),
      keystroke_p99_ms: percentile(typed.samples, 99),
      keystroke_socket_p50_ms: percentile(typed.toSocket, 50),
      keystroke_socket_p99_ms: percentile(typed.toSocket, 99),
      keystroke_burst_p50_ms: percentile(burst.samples, 50),
      keystroke_burst_p99_ms: percentile(burst.samples, 99),
      yes_flood_mb_s: flood.mb / flood.seconds,
      // Both parts of the rate: bytes the page received, and the time from the first to the last of them.
      yes_flood_mb: flood.mb,
      yes_flood_s: flood.seconds,
      yes_flood_rss_mb: await worker.peakRssMb(),
    };
  } finally {
    await browser.close();
    await worker.stop();
  }
}
