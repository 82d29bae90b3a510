import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createHost, type Host } from "@optio/host";
import { describe, expect, it } from "vitest";
import type { TaskEvent } from "../spec/task-context.js";
import { taskConsumer } from "./run-agent-session.js";
import { processesOf } from "./test-fixtures/processes-of.js";
import { useScriptedTaskRoots } from "./test-fixtures/scripted-task-roots.js";
import { Worker, WORKER_WAIT_MS, type WorkerArgs } from "./test-fixtures/worker-process.js";
import { sendText, stopTmuxSession, tmuxSessionFor } from "../terminal/tmux.js";

/**
 * A worker process is SIGKILLed while its agent works; a second process
 * resumes the task and must adopt the same agent process, publish its
 * terminal again and carry on with the log where the first one stopped.
 */

const roots = useScriptedTaskRoots("optio-adopt-");

type Kind = "local" | "ssh";

function workerArgs(kind: Kind, mode: "start" | "resume", processId: string): WorkerArgs {
  return {
    mode,
    stateDir: join(roots.root(), "state"),
    processId,
    ...(kind === "ssh" ? { ssh: roots.sshd().sshConfig() } : {}),
  };
}

const progress = (message: string) => (event: TaskEvent) => event.type === "progress" && event.message === message;
/** The agent's own lines, as events: what `heard …` and `pid …` STATUS lines became. */
const agentLines = (events: TaskEvent[]) =>
  events.flatMap((e) =>
    e.type === "progress" && e.message !== undefined && /^(heard|pid) /.test(e.message) ? [e.message] : [],
  );

/** Polls a condition on files (nothing announces a write to them); fails after WORKER_WAIT_MS. */
async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + WORKER_WAIT_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return fallback;
  }
}

describe.each(["local", "ssh"] as const)("a task whose worker was killed (%s host)", (kind) => {
  it("is adopted by a resume in another process: same agent, no event lost or repeated", {
    timeout: 300_000,
  }, async () => {
    const processId = `adopt-${kind}`;
    const taskDir = join(roots.taskRoot(kind), processId);
    const logPath = join(taskDir, "workdir", "optio.log");
    const recordedLines = () =>
      (JSON.parse(readOr(join(taskDir, "session.json"), '{"logLines":-1}')) as { logLines: number }).logLines;
    const host: Host = createHost({
      consumer: taskConsumer("scripted"),
      processId,
      ...(kind === "ssh" ? { ssh: roots.sshd().sshConfig() } : {}),
    });
    const type = (text: string) => sendText(host, tmuxSessionFor(host), text, { submit: true, settleMs: 0 });
    let first: Worker | null = null;
    let second: Worker | null = null;
    let passed = false;
    try {
      first = new Worker(workerArgs(kind, "start", processId));
      await first.waitFor(
        "the launch",
        (e) => e.type === "progress" && /^Scripted agent is (working|waiting)/.test(e.message ?? ""),
      );
      await host.connect();
      await type("pid");
      const isPid = (e: TaskEvent) => e.type === "progress" && /^pid \d+$/.test(e.message ?? "");
      const pid = agentLines([await first.waitFor("the agent's pid", isPid)])[0];
      await type("one");
      await first.waitFor("heard one", progress("heard one"));
      // Killed only once it has recorded every line it turned into an event: then none may come twice.
      const linesInLog = () =>
        readOr(logPath, "")
          .split("\n")
          .filter((l) => l !== "").length;
      await until("the first worker to record the log lines it handled", () => recordedLines() === linesInLog());
      first.kill();
      expect(await first.exited).toBe(null);

      // Written while no worker watches: the adopter must deliver it.
      await type("two");
      await until("the agent to log 'heard two'", () => readOr(logPath, "").includes("STATUS: heard two\n"));

      second = new Worker(workerArgs(kind, "resume", processId));
      await second.waitFor("the terminal", (e) => e.type === "widget" && e.widget !== null);
      await second.waitFor("heard two", progress("heard two"));
      // onResumeRefresh ran for the adopted agent and named what it rewrote where the agent looks at its next message.
      expect(readFileSync(join(taskDir, "workdir", "AGENTS.md"), "utf8")).toContain("the refreshed instructions");
      expect(
        readFileSync(join(taskDir, "workdir", "resume.log"), "utf8")
          .trim()
          .split("\n"),
      ).toEqual([expect.any(String), expect.stringMatching(/ REFRESHED:AGENTS\.md$/)]);
      await type("pid");
      expect(agentLines([await second.waitFor("the agent's pid", isPid)])).toEqual([pid]);
      await type("quit");
      expect(await second.exited).toBe(0);

      // beforeExecute prepared the agent that was adopted: it does not run again.
      const ranBeforeExecute = (w: Worker) =>
        w.events.filter((e) => (e as { type: string }).type === "beforeExecute").length;
      expect([ranBeforeExecute(first), ranBeforeExecute(second)]).toEqual([1, 0]);
      expect(agentLines(first.events)).toEqual(["heard pid", pid, "heard one"]);
      expect(agentLines(second.events)).toEqual(["heard two", "heard pid", pid, "heard quit"]);
      expect(second.events).toContainEqual({
        type: "report",
        level: "info",
        message: "Scripted agent from an earlier worker is still running for this task; adopting it",
      });
      expect(
        second.events.filter((e) => e.type === "progress" && /Restoring|Starting|installation/.test(e.message ?? "")),
      ).toEqual([]);
      expect(second.events.at(-1)).toEqual({ type: "outcome", outcome: { status: "done", summary: "asked to quit" } });
      await until("every process of the task to end", () => processesOf(taskDir).length === 0).catch((error: Error) => {
        throw new Error(`${error.message}: ${processesOf(taskDir).join("; ")}`);
      });
      passed = true;
    } finally {
      first?.kill();
      second?.kill();
      // A failed expectation must not leave the agent waiting for input forever.
      if (!passed) await stopTmuxSession(host, tmuxSessionFor(host)).catch(() => undefined);
      await host.disconnect();
    }
  });
});
