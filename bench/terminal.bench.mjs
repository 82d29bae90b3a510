// The web terminal: keystroke-to-paint latency in real Chromium, and a `yes`
// flood's throughput to the page and the worker's peak memory meanwhile.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { TerminalServer } from "../packages/agents/dist/index.js";
import { LocalHost, shellCommand } from "../packages/host/dist/index.js";

const SAMPLES = 200;
const FLOOD_SECONDS = 10;

// The agents package does not export its tmux helpers; these two commands are all the bench needs.
async function startTmux(host, session, command) {
  await host.runChecked(
    shellCommand(["env", "-u", "TMUX", "tmux", "-S", session.socket, "-f", "/dev/null", "new-session", "-d", "-s", session.name, "-x", "200", "-y", "50", "-c", host.workdir, command]),
  );
}

async function stopTmux(host, session) {
  await host.runCommand(shellCommand(["env", "-u", "TMUX", "tmux", "-S", session.socket, "kill-server"]));
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function measureKeystrokes(browser, url) {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => window.optioTerminal?.socket.readyState === 1 && document.querySelector(".xterm-rows")?.textContent.includes("echo-ready"), null, { timeout: 15_000 });
  await page.locator(".xterm").click();
  await page.evaluate(() => {
    const { term } = window.optioTerminal;
    const cursorLine = () => {
      const buffer = term.buffer.active;
      return buffer.getLine(buffer.baseY + buffer.cursorY)?.translateToString(true) ?? "";
    };
    const bench = { samples: [], pending: null, cursorLine };
    window.optioBench = bench;
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
        bench.samples.push(performance.now() - bench.pending.t0);
        bench.pending = null;
      }
    });
  });
  const letters = "abcdefghijklmnopqrstuvwxyz";
  for (let i = 0; i < SAMPLES; i++) {
    await page.keyboard.press(letters[i % letters.length]);
    await page.waitForFunction((n) => window.optioBench.samples.length === n, i + 1, { timeout: 5000, polling: "raf" });
    if ((i + 1) % 40 === 0) {
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => window.optioBench.cursorLine() === "", null, { timeout: 5000 });
    }
  }
  const samples = await page.evaluate(() => window.optioBench.samples);
  await page.close();
  return samples;
}

async function measureFlood(browser, url) {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => window.optioTerminal?.socket.readyState === 1 && document.querySelector(".xterm-rows")?.textContent.includes("flood-ready"), null, { timeout: 15_000 });
  await page.evaluate(() => {
    const stats = { bytes: 0, first: 0, last: 0 };
    window.optioFlood = stats;
    window.optioTerminal.socket.addEventListener("message", (event) => {
      if (typeof event.data === "string") return;
      const now = performance.now();
      if (stats.bytes === 0) stats.first = now;
      stats.last = now;
      stats.bytes += event.data.byteLength;
    });
  });
  global.gc?.();
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  try {
    await page.locator(".xterm").click();
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.querySelector(".xterm-rows")?.textContent.includes("flood-done"), null, {
      timeout: (FLOOD_SECONDS + 30) * 1000,
      polling: 200,
    });
  } finally {
    clearInterval(sampler);
  }
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const stats = await page.evaluate(() => window.optioFlood);
  await page.close();
  return { mbPerSecond: stats.bytes / 1024 / 1024 / ((stats.last - stats.first) / 1000), peakRssMb: peakRss / 1024 / 1024 };
}

export default async function () {
  const root = await mkdtemp(join(tmpdir(), "optio-bench-terminal-"));
  const host = new LocalHost({ consumer: "optio-bench", processId: "terminal", env: { OPTIO_BENCH_TASK_ROOT: root } });
  await host.connect();
  const echo = { socket: `${host.taskDir}/echo.sock`, name: "echo" };
  const flood = { socket: `${host.taskDir}/flood.sock`, name: "flood" };
  await startTmux(host, echo, "echo echo-ready; exec cat");
  await startTmux(host, flood, `echo flood-ready; read _; timeout ${FLOOD_SECONDS} yes; echo flood-done; exec sleep 3600`);
  const server = await TerminalServer.start();
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const samples = await measureKeystrokes(browser, server.publish("bench-echo", { host, session: echo }).url);
    const floodResult = await measureFlood(browser, server.publish("bench-flood", { host, session: flood }).url);
    return {
      keystroke_p50_ms: percentile(samples, 50),
      keystroke_p99_ms: percentile(samples, 99),
      yes_flood_mb_s: floodResult.mbPerSecond,
      yes_flood_rss_mb: floodResult.peakRssMb,
    };
  } finally {
    await browser.close();
    await server.close();
    await stopTmux(host, echo).catch(() => undefined);
    await stopTmux(host, flood).catch(() => undefined);
    await host.disconnect();
    await rm(root, { recursive: true, force: true });
  }
}
