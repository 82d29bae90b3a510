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
import { openCode } from "@optio/opencode";
import { exitOf, lineFrom, startTestSshd, type TestSshd } from "@optio/host/testing";
import { startTestPostgres, type TestPostgres } from "@optio/store-postgres/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkerProcesses } from "./child-worker.js";
import type { AnyTaskKind } from "./task-kind.js";
import { connectTaskQueue } from "./task-queue.js";
import { startTestRedis, type TestRedis } from "./test-redis.js";
import { recordEvents } from "./test-watch.js";

/** The versions the adapters' real-binary tests pin, so the binaries cached by them are reused. */
const CLAUDE_VERSION = "2.1.332";
const OPENCODE_VERSION = "1.18.34";
const CLAUDE_KINDS = fileURLToPath(new URL("./test-fixtures/claude-kinds.mjs", import.meta.url));
const OPENCODE_KINDS = fileURLToPath(new URL("./test-fixtures/opencode-kinds.mjs", import.meta.url));
const SUMMARY = "finished under its second worker";

let redis: TestRedis;
let postgres: TestPostgres;
let sshd: TestSshd;
let databaseUrl: string;
let dir: string;
let guard: RealDirsGuard;
let restoreTaskRoots: (() => void)[] = [];
let model: ScriptedModel | undefined;
const children: ChildProcess[] = [];

beforeAll(async () => {
  [redis, postgres, sshd] = await Promise.all([startTestRedis(), startTestPostgres(), startTestSshd()]);
  databaseUrl = await postgres.createDatabase("claude");
  dir = await mkdtemp(join(tmpdir(), "optio-queue-claude-"));
  guard = await guardRealDirs({
    watched: [
      join(homedir(), ".claude"),
      join(homedir(), ".local/share/opencode"),
      join(homedir(), ".config/opencode"),
    ],
  });
  // Inherited by the worker processes: task dirs and the binaries under the temp dir.
  restoreTaskRoots = [taskRootsIn(claudeCode.id, dir), taskRootsIn(openCode.id, dir)];
  Object.assign(process.env, {
    OPTIO_CLAUDE_INSTALL_DIR: join(dir, "bin"),
    OPTIO_CLAUDE_VERSION: CLAUDE_VERSION,
    OPTIO_OPENCODE_INSTALL_DIR: join(dir, "bin"),
    OPTIO_OPENCODE_VERSION: OPENCODE_VERSION,
  });
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await Promise.all(children.map(exitOf));
  await model?.close();
  await Promise.all([redis?.stop(), postgres?.stop(), sshd?.stop()]);
  await guard?.release();
  for (const restore of restoreTaskRoots) restore();
  for (const name of ["CLAUDE", "OPENCODE"]) {
    delete process.env[`OPTIO_${name}_INSTALL_DIR`];
    delete process.env[`OPTIO_${name}_VERSION`];
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A shell tool call, as the scripted model makes the agent run it (claude's tool is `Bash`, opencode's `bash`). */
const bash = (command: string, description: string, tool = "Bash"): ScriptedTurn => ({
  toolCalls: [{ name: tool, input: { command, description } }],
});

/** Starts a worker process of `kindsModule`'s kinds, added to `children`. */
async function spawnWorker(queueName: string, kindsModule: string, workerId: string): Promise<ChildProcess> {
  const [child] = await startWorkerProcesses(
    {
      redisUrl: redis.url,
      databaseUrl,
      queueName,
      root: dir,
      concurrency: 1,
      kindsModule,
      hosts: { sshd: sshd.sshConfig() },
    },
    [workerId],
    children,
  );
  return child!;
}

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
    const spawn = (workerId: string) => spawnWorker(queueName, CLAUDE_KINDS, workerId);
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

describe("the real opencode through the queue", () => {
  // The test sshd shares this machine's disk: a task's dir there lies under the remote task root.
  it.each([
    ["this machine", undefined, "tasks"],
    ["the test sshd", "sshd", "remote_tasks"],
  ])(
    "runs as a task kind on a worker process to done on %s; a client sees its progress, reports and one outcome",
    {
      timeout: 600_000,
    },
    async (_where, host, taskRoot) => {
      const summary = "wrote a poem for the queue";
      const name = `opencode-${host ?? "local"}`;
      const cwdFile = join(dir, `${name}-cwd`);
      await model?.close();
      model = await startScriptedModel({
        turns: [
          bash(
            `mkdir -p deliverables && printf 'panes in a queue\\n' > deliverables/poem.txt && pwd > ${cwdFile} && echo 'STATUS: 50% poem written' >> optio.log && echo 'DELIVERABLE: deliverables/poem.txt' >> optio.log`,
            "Write the poem",
            "bash",
          ),
          bash(`echo 'DONE: ${summary}' >> optio.log`, "Report done", "bash"),
          { text: "The poem is in deliverables/poem.txt." },
        ],
      });
      const queueName = name;
      const processId = `${name}-1`;
      const workerId = `${name}-a`;
      const { kinds } = (await import(OPENCODE_KINDS)) as { kinds: AnyTaskKind[] };
      const queue = connectTaskQueue({ redisUrl: redis.url, queueName, kinds });
      const events = recordEvents(queue);
      try {
        const worker = await spawnWorker(queueName, OPENCODE_KINDS, workerId);
        await queue.submitTask(
          "opencode",
          {
            instructions: "Write a one-line poem into deliverables/poem.txt.",
            apiBaseUrl: model.url,
            ...(host ? { host } : {}),
          },
          { processId },
        );
        const outcome = await queue.waitForOutcome(processId);
        expect(outcome).toMatchObject({ status: "done", summary });
        expect(readFileSync(cwdFile, "utf8").startsWith(join(dir, taskRoot, "/"))).toBe(true);
        const delivered = `${workerId} received poem.txt: panes in a queue`;
        const task = await queue.getTask(processId);
        expect(task).toMatchObject({ kind: "opencode", state: "done", worker: workerId, runs: 1, outcome });
        expect(task?.reports).toContainEqual({ level: "info", message: delivered });
        // Watched live from this process, as a dashboard would: the worker's start, the agent's own progress, the report.
        await events.next((e) => e.type === "outcome");
        const seen = events.events.filter((e) => e.processId === processId);
        expect(seen[0]).toEqual({ processId, type: "started", worker: workerId, run: 1 });
        expect(seen).toContainEqual({
          processId,
          type: "task",
          event: { type: "progress", percent: 50, message: "poem written" },
        });
        expect(seen).toContainEqual({
          processId,
          type: "task",
          event: { type: "report", level: "info", message: delivered },
        });
        expect(seen.filter((e) => e.type === "outcome")).toEqual([{ processId, type: "outcome", outcome }]);
        // Nothing but the model API was asked: the worker's opencode reached 127.0.0.1 only.
        expect(model.requests.filter((r) => !r.path.startsWith("/v1/messages")).map((r) => r.path)).toEqual([]);
        worker.stdin?.write("drain\n");
        await lineFrom(worker, "CLOSED:");
      } finally {
        await events.stop();
        await queue.close();
      }
    },
  );
});
