import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RemoteHost } from "./remote-host.js";
import { startTestSshd, type TestSshd } from "./test-sshd.js";
import { withTimeout } from "./with-timeout.js";

const execFileAsync = promisify(execFile);

/** Seconds since boot, as /proc/<pid>/stat's start times count them. */
async function uptime(): Promise<number> {
  return Number((await readFile("/proc/uptime", "utf8")).split(" ")[0]);
}

/** Standby shells logged in by this sshd (each test sshd has a HOME of its own; other tests on the machine have theirs). */
async function standbyShells(sshd: TestSshd): Promise<string> {
  const { stdout } = await execFileAsync("ps", ["-eo", "pid=,args="]);
  const lines = stdout.split("\n").filter((line) => line.includes("OPTIO_STANDBY_END_"));
  const ours = await Promise.all(
    lines.map(async (line) => {
      const environ = await readFile(`/proc/${line.trim().split(" ")[0]}/environ`, "utf8").catch(() => "");
      return environ.split("\0").includes(`HOME=${sshd.home}`);
    }),
  );
  return lines.filter((_, i) => ours[i]).join("\n");
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A connected RemoteHost on its own sshd, for the tests of one describe block. */
function remoteHostFixture(maxSessions?: number): (() => RemoteHost) & { sshd: () => TestSshd } {
  let sshd: TestSshd;
  let root: string;
  let host: RemoteHost;

  beforeAll(async () => {
    sshd = await startTestSshd({ maxSessions });
    root = await mkdtemp(path.join(os.tmpdir(), "optio-standby-"));
    host = new RemoteHost({
      consumer: "standby-test",
      processId: "s",
      ssh: sshd.sshConfig(),
      env: { STANDBY_TEST_REMOTE_TASK_ROOT: root },
    });
    await host.connect();
  });

  afterAll(async () => {
    await host.disconnect();
    await sshd.stop();
    await rm(root, { recursive: true, force: true });
  });

  return Object.assign(() => host, { sshd: () => sshd });
}

describe("RemoteHost's standby exec channel", () => {
  const remote = remoteHostFixture();

  it("runs a command in a login shell started before the command was asked for", async () => {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const asked = await uptime();
    const { stdout } = await remote().runChecked("echo $(( $(cut -d' ' -f22 /proc/$$/stat) / $(getconf CLK_TCK) ))");
    // Whole seconds since boot: the shell that runs the command began at least 0.5 s before it was asked for.
    expect(Number(stdout.trim())).toBeLessThanOrEqual(Math.floor(asked));
    expect(Number(stdout.trim())).toBeGreaterThan(asked - 60);
  });

  it("gives the command its stdin, output, exit status and a tree that terminate ends", async () => {
    const host = remote();
    const piped = await host.runCommand("cat; echo err >&2; exit 3", {
      stdin: "line one\nOPTIO_STANDBY_END_x\nline three\n",
    });
    expect(piped).toEqual({ stdout: "line one\nOPTIO_STANDBY_END_x\nline three\n", stderr: "err\n", exitCode: 3 });
    const proc = await host.spawn("sleep 600 & sleep 600 & wait");
    await host.terminate(proc, { graceMs: 200 });
    expect(await withTimeout("the exit", proc.exited)).toMatchObject({ code: null });
    // Reaping is init's business: a zombie has already exited.
    const { stdout } = await host.runChecked(`ps -eo pgid=,stat= | awk '$1 == ${proc.pid} && $2 !~ /^Z/' | wc -l`);
    expect(stdout.trim()).toBe("0");
  });

  it("passes over a standby whose shell has died", async () => {
    const host = remote();
    await host.runChecked("true");
    // Only once all three standbys are past the login shell's rc files (killed inside them, a shell can leave rc locks behind).
    const readers = async () =>
      (await standbyShells(remote.sshd()))
        .split("\n")
        .filter((line) => line.trim().split(" ").slice(1).join(" ").startsWith("/bin/sh -c c="))
        .map((line) => line.trim().split(" ")[0] ?? "");
    await until("three standbys reading", async () => (await readers()).length === 3);
    await execFileAsync("kill", ["-KILL", ...(await readers())]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await host.runChecked("echo alive")).stdout).toBe("alive\n");
    expect((await host.runChecked("echo again")).stdout).toBe("again\n");
  });

  it("sends a command too long for the standby through its own exec request", async () => {
    const word = "x".repeat(40_000);
    const { stdout } = await remote().runChecked(`printf %s ${word} | wc -c`);
    expect(stdout.trim()).toBe("40000");
  });
});

describe("RemoteHost's standby exec channel on a server at its MaxSessions", () => {
  // The SFTP session, one running command and the standby fill all three.
  const remote = remoteHostFixture(3);

  it("gives up the standby's session for a PTY", async () => {
    const host = remote();
    // A command that ends on EOF: stopping it needs no further channel, and none would be granted.
    const running = await host.spawn("exec cat", { stdin: true });
    const pty = await host.openPty("printf 'pty-ready\\n'; exec cat", { cols: 80, rows: 24 });
    const ptyExit = new Promise<unknown>((resolve) => pty.onExit(resolve));
    try {
      const seen = await withTimeout(
        "the PTY's output",
        new Promise<string>((resolve) => {
          let all = "";
          pty.onData((d) => {
            all += d;
            if (all.includes("pty-ready")) resolve(all);
          });
        }),
      );
      expect(seen).toContain("pty-ready");
    } finally {
      pty.close();
      running.stdin?.end();
    }
    await withTimeout("the PTY to exit", ptyExit);
    expect(await withTimeout("the command to exit", running.exited)).toEqual({ code: 0, signal: null });
  });
});

describe("RemoteHost's standby on disconnect", () => {
  it("leaves no standby shell running on the host", async () => {
    const sshd = await startTestSshd();
    const root = await mkdtemp(path.join(os.tmpdir(), "optio-standby-"));
    try {
      const host = new RemoteHost({
        consumer: "standby-test",
        processId: "d",
        ssh: sshd.sshConfig(),
        env: { STANDBY_TEST_REMOTE_TASK_ROOT: root },
      });
      await host.connect();
      await host.runChecked("true");
      await until("a standby shell starting", async () => (await standbyShells(sshd)) !== "");
      await host.disconnect();
      await until("every standby shell ending", async () => (await standbyShells(sshd)) === "");
    } finally {
      await sshd.stop();
      await rm(root, { recursive: true, force: true });
    }
  });
});
