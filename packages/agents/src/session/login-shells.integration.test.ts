import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestSshd, type TestSshd } from "@optio/host/testing";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AgentAdapter } from "../spec/agent-adapter.js";
import type { AgentTaskConfig } from "../spec/config.js";
import { FileStateStore } from "../store/file-state-store.js";
import { createAgentTask } from "../task/agent-task.js";
import { runTask } from "../task/run-task.js";
import { launchChromium, waitForScreen } from "../terminal/test-browser.js";
import { createScriptedAdapter } from "../testing/scripted-adapter.js";
import { watchTerminal } from "../testing/watch-terminal.js";

/**
 * Over SSH every exec request runs the user's login shell, rc files and all.
 * These tests give the test sshd's user a ~/.bashrc that logs each login
 * shell (its pid, and whether its command was a pre-opened standby or the
 * command itself) to a file, then sleeps, and watch a session start through
 * to the agent's first screen in a browser.
 */

const SCREEN = "AGENT-FIRST-SCREEN";
/** How long a login shell's rc files take here. */
const SLOW_RC_S = 0.5;
/**
 * The login shells a connection starts at once when it opens: its three exec
 * standbys and the viewer's pre-opened PTY.
 */
const FIRST_WAVE = { exec: 3, pty: 1 };
/** Far beyond a start here: a stall on a later login shell (held for up to 60 s) cannot fit under it. */
const FIRST_PAINT_BOUND_MS = 30_000;

let root: string;
let store: FileStateStore;
let sshd: TestSshd;
let browser: Browser;
let counter = 0;

const loginsFile = () => join(sshd.home, "logins");
const paintedFile = () => join(sshd.home, "painted");

beforeAll(async () => {
  // Started before the root is in the environment: the server inherits it.
  sshd = await startTestSshd();
  root = await mkdtemp(join(tmpdir(), "optio-login-shells-"));
  process.env.OPTIO_SCRIPTED_REMOTE_TASK_ROOT = join(root, "remote-tasks");
  store = new FileStateStore({ dir: join(root, "state") });
  browser = await launchChromium();
});

afterAll(async () => {
  delete process.env.OPTIO_SCRIPTED_REMOTE_TASK_ROOT;
  await browser?.close();
  await writeFile(paintedFile(), "").catch(() => {});
  await sshd?.stop();
  await rm(root, { recursive: true, force: true });
});

beforeEach(async () => {
  await rm(loginsFile(), { force: true });
  await rm(paintedFile(), { force: true });
});

/** The rc file: logs `<pid> ahead|direct exec|pty`, sleeps, and holds every login shell after the first wave until `painted` exists (when `gate`). */
function bashrc(gate: boolean): string {
  return [
    'case "$BASH_EXECUTION_STRING" in *OPTIO_STANDBY_END_*) kind=ahead ;; *) kind=direct ;; esac',
    "if [ -t 0 ]; then mode=pty; else mode=exec; fi",
    `echo "$$ $kind $mode" >> "$HOME/logins"`,
    `sleep ${SLOW_RC_S}`,
    ...(gate
      ? [
          // Its place among the login shells of its kind: the first wave's PTY and a later exec may log in either order.
          `n=$(grep " $mode$" "$HOME/logins" | grep -n "^$$ " | cut -d: -f1)`,
          `if { [ "$mode" = exec ] && [ "$n" -gt ${FIRST_WAVE.exec} ]; } || { [ "$mode" = pty ] && [ "$n" -gt ${FIRST_WAVE.pty} ]; }; then i=0; while [ ! -e "$HOME/painted" ] && [ "$i" -lt 600 ]; do sleep 0.1; i=$((i + 1)); done; fi`,
        ]
      : []),
    "",
  ].join("\n");
}

async function logins(): Promise<Array<{ pid: string; kind: string; mode: string }>> {
  const text = await readFile(loginsFile(), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const [pid = "", kind = "", mode = ""] = line.split(" ");
      return { pid, kind, mode };
    });
}

function screenAdapter(script: string): AgentAdapter<AgentTaskConfig> {
  return { ...createScriptedAdapter(), command: () => ({ argv: ["/bin/sh", "-c", script], env: {} }) };
}

function task(script: string) {
  counter += 1;
  return createAgentTask(screenAdapter(script), {
    processId: `login-shells-${counter}`,
    name: "login shells",
    config: { supportsResume: false, ssh: sshd.sshConfig({ readyTimeoutMs: 10_000 }) },
  });
}

describe("login shells on the SSH start path", () => {
  it("reaches the agent's first screen with every login shell after the connection's first wave held in its rc files", async () => {
    await writeFile(join(sshd.home, ".bashrc"), bashrc(true));
    let atPaint: Awaited<ReturnType<typeof logins>> = [];
    const { seen, outcome } = await watchTerminal(task(`echo ${SCREEN}; exec sleep 600`), { store }, async (url) => {
      const page = await browser.newPage();
      try {
        await page.goto(url);
        const screen = await waitForScreen(page, SCREEN, FIRST_PAINT_BOUND_MS);
        atPaint = await logins();
        return screen;
      } finally {
        await writeFile(paintedFile(), "");
        await page.close();
      }
    });
    expect(seen).toContain(SCREEN);
    expect(outcome).toEqual({ status: "cancelled" });
    // Every login shell the start needed was opened ahead of the command it ran, all of them when the connection opened.
    expect(atPaint.filter((login) => login.kind === "direct")).toEqual([]);
    expect(atPaint.filter((login) => login.mode === "pty").length).toBeGreaterThanOrEqual(FIRST_WAVE.pty);
    expect(atPaint.filter((login) => login.mode === "exec").length).toBeGreaterThanOrEqual(FIRST_WAVE.exec);
  });

  it("starts and finishes a session on a host whose rc files sleep, without a stall", async () => {
    await writeFile(join(sshd.home, ".bashrc"), bashrc(false));
    const started = performance.now();
    let paintedMs = 0;
    const run = runTask(task(`echo ${SCREEN}; sleep 2; echo DONE >> optio.log`), { store });
    let url: string | null = null;
    for await (const event of run.events) {
      if (event.type === "widget" && event.widget && url === null) {
        url = event.widget.url;
        const page = await browser.newPage();
        try {
          await page.goto(url);
          await waitForScreen(page, SCREEN, FIRST_PAINT_BOUND_MS);
          paintedMs = performance.now() - started;
        } finally {
          await page.close();
        }
      }
    }
    expect(await run.outcome).toEqual({ status: "done", summary: undefined });
    expect(paintedMs).toBeGreaterThan(0);
    expect(paintedMs).toBeLessThan(FIRST_PAINT_BOUND_MS);
    expect((await logins()).filter((login) => login.kind === "direct")).toEqual([]);
  });
});
