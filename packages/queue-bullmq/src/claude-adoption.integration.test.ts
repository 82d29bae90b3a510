import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  guardRealDirs,
  type RealDirsGuard,
  isConversationRequest,
  messagesText,
  startScriptedModel,
  type ScriptedModel,
  type ScriptedTurn,
  taskRootsIn,
} from "@optio/agents/testing";
import { claudeCode } from "@optio/claudecode";
import { exitOf, lineFrom } from "@optio/host/testing";
import { startTestPostgres, type TestPostgres } from "@optio/store-postgres/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkerProcesses } from "./child-worker.js";
import type { AnyTaskKind } from "./task-kind.js";
import { connectTaskQueue } from "./task-queue.js";
import { startTestRedis, type TestRedis } from "./test-redis.js";
import { recordEvents } from "./test-watch.js";

/** The version claudecode's real-binary tests pin, so the binary cached by them is reused. */
const CLAUDE_VERSION = "2.1.332";
const CLAUDE_KINDS = fileURLToPath(new URL("./test-fixtures/claude-kinds.mjs", import.meta.url));
const SUMMARY = "finished under its second worker";

let redis: TestRedis;
let postgres: TestPostgres;
let databaseUrl: string;
let dir: string;
let guard: RealDirsGuard;
let restoreTaskRoots: (() => void) | undefined;
let model: ScriptedModel | undefined;
const children: ChildProcess[] = [];

beforeAll(async () => {
  [redis, postgres] = await Promise.all([startTestRedis(), startTestPostgres()]);
  databaseUrl = await postgres.createDatabase("claude");
  dir = await mkdtemp(join(tmpdir(), "optio-queue-claude-"));
  guard = await guardRealDirs({ watched: [join(homedir(), ".claude")] });
  // Inherited by the worker processes: task dirs and the binary under the temp dir.
  restoreTaskRoots = taskRootsIn(claudeCode.id, dir);
  process.env.OPTIO_CLAUDE_INSTALL_DIR = join(dir, "bin");
  process.env.OPTIO_CLAUDE_VERSION = CLAUDE_VERSION;
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await Promise.all(children.map(exitOf));
  await model?.close();
  await Promise.all([redis?.stop(), postgres?.stop()]);
  await guard?.release();
  restoreTaskRoots?.();
  delete process.env.OPTIO_CLAUDE_INSTALL_DIR;
  delete process.env.OPTIO_CLAUDE_VERSION;
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A Bash tool call, as the scripted model makes claude run it. */
const bash = (command: string, description: string): ScriptedTurn => ({
  toolCalls: [{ name: "Bash", input: { command, description } }],
});

describe("the real Claude Code through the queue", () => {
  it("a worker SIGKILLed mid-task: another worker adopts the live claude (same process) and records the one outcome", {
    timeout: 600_000,
  }, async () => {
    const gate = join(dir, "gate");
    const pids = join(dir, "claude-pids");
    // Each tool call's shell is a child of claude itself: the same parent pid before and after means the same agent.
    // Nothing answers past DONE's turn: claude's transcript ends with the two scripted turns.
    model = await startScriptedModel({
      turns: [
        {
          ...bash(
            `echo "$PPID" >> ${pids} && echo 'STATUS: 50% holding' >> optio.log && while [ ! -e ${gate} ]; do sleep 0.2; done`,
            "Wait for the gate",
          ),
          usage: { inputTokens: 900, outputTokens: 60 },
        },
        {
          ...bash(`echo "$PPID" >> ${pids} && echo 'DONE: ${SUMMARY}' >> optio.log`, "Report done"),
          usage: { inputTokens: 700, outputTokens: 40, cacheReadInputTokens: 300 },
        },
      ],
      holdAfterLastTurn: true,
    });
    const queueName = "claude";
    const { kinds } = (await import(CLAUDE_KINDS)) as { kinds: AnyTaskKind[] };
    const queue = connectTaskQueue({ redisUrl: redis.url, queueName, kinds });
    const events = recordEvents(queue);
    const spawn = async (workerId: string) => {
      const [child] = await startWorkerProcesses(
        { redisUrl: redis.url, databaseUrl, queueName, root: dir, concurrency: 1, kindsModule: CLAUDE_KINDS },
        [workerId],
        children,
      );
      return child!;
    };
    try {
      const first = await spawn("claude-a");
      await queue.submitTask(
        "claude",
        { instructions: "Wait for the gate, then report done.", apiBaseUrl: model.url },
        { processId: "claude-1" },
      );
      await events.next((e) => e.type === "task" && e.event.type === "progress" && e.event.message === "holding");
      const second = await spawn("claude-b");
      first.kill("SIGKILL");
      expect(await exitOf(first)).toBe("SIGKILL");

      const adopted = await events.next(
        (e) =>
          e.type === "task" &&
          e.event.type === "report" &&
          /still running for this task; adopting it$/.test(e.event.message),
      );
      expect(adopted.type === "task" && adopted.event).toEqual({
        type: "report",
        level: "info",
        message: "Claude Code from an earlier worker is still running for this task; adopting it",
      });
      expect(await events.next((e) => e.type === "started" && e.worker === "claude-b")).toMatchObject({ run: 2 });
      await writeFile(gate, "");
      // The adopter reads the transcript from its start: the turn the first worker reported is counted once.
      const usage = expect.objectContaining({
        turns: 2,
        inputTokens: 1600,
        outputTokens: 100,
        cacheReadTokens: 300,
        cacheWriteTokens: 0,
      });
      expect(await queue.waitForOutcome("claude-1")).toEqual({ status: "done", summary: SUMMARY, usage });

      const [before, after, ...more] = readFileSync(pids, "utf8").trim().split("\n");
      expect(more).toEqual([]);
      expect(after).toBe(before);
      // Nothing was started again: a relaunched claude would have opened a second conversation, and the second worker neither installed nor launched.
      const conversations = model.requests.filter(isConversationRequest);
      expect(conversations.length).toBeGreaterThanOrEqual(2);
      expect(conversations.filter((r) => !messagesText(r).includes("tool_result"))).toHaveLength(1);
      const underSecond = events.events.slice(events.events.indexOf(adopted));
      expect(
        underSecond.filter(
          (e) =>
            e.type === "task" &&
            e.event.type === "progress" &&
            /Starting|Restoring|install/i.test(e.event.message ?? ""),
        ),
      ).toEqual([]);
      expect(await queue.getTask("claude-1")).toMatchObject({ state: "done", worker: "claude-b", runs: 2 });
      second.stdin?.write("drain\n");
      await lineFrom(second, "CLOSED:");
      await events.next((e) => e.type === "outcome");
      expect(events.events.filter((e) => e.type === "outcome")).toEqual([
        { processId: "claude-1", type: "outcome", outcome: { status: "done", summary: SUMMARY, usage } },
      ]);
    } finally {
      await writeFile(gate, "").catch(() => {});
      await events.stop();
      await queue.close();
    }
  });
});
