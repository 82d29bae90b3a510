import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { FileStateStore } from "@optio/agents";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  QueueUnavailableError,
  TaskExistsError,
  TaskInputError,
  TaskNotFoundError,
  TaskNotRunningError,
  TaskPayloadError,
  TaskResumeError,
  UnknownTaskKindError,
} from "./errors.js";
import { scriptedInputs, scriptedStarts, scriptedTaskKind } from "./scripted-kind.js";
import { connectTaskQueue, type TaskQueue } from "./task-queue.js";
import { startTestRedis, type TestRedis } from "./test-redis.js";
import { startWorker, type TaskWorker } from "./worker.js";
import type { QueueTaskEvent } from "./queue-records.js";
import { recordEvents } from "./test-watch.js";

let redis: TestRedis;
let dir: string;

beforeAll(async () => {
  redis = await startTestRedis();
  dir = await mkdtemp(path.join(os.tmpdir(), "optio-queue-"));
});

afterAll(async () => {
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function withQueue(
  name: string,
  body: (queue: TaskQueue, worker: (concurrency?: number) => Promise<TaskWorker>) => Promise<void>,
) {
  const root = path.join(dir, name);
  const kinds = [scriptedTaskKind(root)];
  const queue = connectTaskQueue({ redisUrl: redis.url, queueName: name, kinds });
  const workers: TaskWorker[] = [];
  const worker = async (concurrency?: number) => {
    const started = await startWorker({
      ...(concurrency ? { concurrency } : {}),
      redisUrl: redis.url,
      queueName: name,
      kinds,
      store: new FileStateStore({ dir: path.join(dir, `${name}-state`) }),
      workerId: `w${workers.length}`,
    });
    workers.push(started);
    return started;
  };
  try {
    await body(queue, worker);
  } finally {
    await Promise.all(workers.map((w) => w.close({ drain: true })));
    await queue.close();
  }
}

describe("a task queue on a real redis-server", () => {
  it("refuses a payload with a wrong field at submit, naming the field, and an unknown kind", async () => {
    await withQueue("refuse", async (queue) => {
      const refused = await queue
        .submitTask("scripted", { ms: "soon" }, { processId: "bad-1" })
        .catch((error: unknown) => error);
      expect(TaskPayloadError.isInstance(refused)).toBe(true);
      expect((refused as Error).message).toContain("payload.ms");
      const unknown = await queue
        .submitTask("nope", { ms: 1 }, { processId: "bad-2" })
        .catch((error: unknown) => error);
      expect(UnknownTaskKindError.isInstance(unknown)).toBe(true);
      expect(await queue.listTasks()).toEqual([]);
    });
  });

  it("runs a submitted task on a worker, streams its events and records one outcome", async () => {
    await withQueue("run", async (queue, worker) => {
      const controller = new AbortController();
      const seen: QueueTaskEvent[] = [];
      const watching = (async () => {
        for await (const event of queue.watch({ processId: "run-1", signal: controller.signal })) {
          seen.push(event);
          if (event.type === "outcome") controller.abort();
        }
      })();
      await worker();
      await queue.submitTask("scripted", { ms: 200 }, { processId: "run-1" });
      const duplicate = await queue
        .submitTask("scripted", { ms: 200 }, { processId: "run-1" })
        .catch((error: unknown) => error);
      expect(TaskExistsError.isInstance(duplicate)).toBe(true);
      const outcome = await queue.waitForOutcome("run-1");
      expect(outcome.status).toBe("done");
      await watching;
      expect(seen[0]).toMatchObject({ type: "started", worker: "w0", run: 1 });
      expect(seen.some((e) => e.type === "task" && e.event.type === "widget")).toBe(true);
      expect(seen.at(-1)).toEqual({ processId: "run-1", type: "outcome", outcome });
      const [task] = await queue.listTasks();
      expect(task).toMatchObject({
        processId: "run-1",
        kind: "scripted",
        state: "done",
        worker: "w0",
        runs: 1,
        outcome,
        // Kept by the queue, so a client that starts watching later still sees what the task said.
        reports: [{ level: "info", message: expect.stringMatching(/^agent \d+ started by w0$/) }],
      });
      expect(await scriptedStarts(path.join(dir, "run"), "run-1")).toHaveLength(1);
    });
  });

  it("cancel stops a running task on its worker, and a cancelled queued task never runs", async () => {
    await withQueue("cancel", async (queue, worker) => {
      await queue.submitTask("scripted", { ms: 600_000 }, { processId: "long-1" });
      await queue.submitTask("scripted", { ms: 1 }, { processId: "queued-1" });
      await queue.cancelTask("queued-1");
      const controller = new AbortController();
      const started = (async () => {
        for await (const event of queue.watch({ processId: "long-1", signal: controller.signal }))
          if (event.type === "task" && event.event.type === "widget") return;
      })();
      await worker();
      await started;
      controller.abort();
      await queue.cancelTask("long-1");
      expect(await queue.waitForOutcome("long-1")).toEqual({ status: "cancelled" });
      expect(await queue.waitForOutcome("queued-1")).toEqual({ status: "cancelled" });
      expect(await scriptedStarts(path.join(dir, "cancel"), "queued-1")).toEqual([]);
      const tasks = await queue.listTasks();
      expect(tasks.map((t) => [t.processId, t.state, t.cancelRequested]).sort()).toEqual([
        ["long-1", "cancelled", true],
        ["queued-1", "cancelled", true],
      ]);
    });
  });

  it("types into a running task through whichever worker runs it, refuses what cannot be typed, and resumes an ended task", async () => {
    await withQueue("input", async (queue, worker) => {
      const root = path.join(dir, "input");
      const events = recordEvents(queue);
      try {
        const [first, second] = await Promise.all([worker(1), worker(1)]);
        const live = (id: string) =>
          events.next((e) => e.processId === id && e.type === "task" && e.event.type === "widget");
        for (const id of ["in-1", "in-2"]) await queue.submitTask("scripted", { ms: 600_000 }, { processId: id });
        await Promise.all([live("in-1"), live("in-2")]);
        // One task on each worker: each request reaches the one that runs its task.
        expect([...first.running(), ...second.running()].sort()).toEqual(["in-1", "in-2"]);

        await queue.sendToTask("in-1", { type: "text", text: "fix the build", submit: true });
        await queue.sendToTask("in-2", { type: "keys", keys: ["Down", "Enter"] });
        expect(await scriptedInputs(root, "in-1")).toEqual(['text "fix the build" submit']);
        expect(await scriptedInputs(root, "in-2")).toEqual(["keys Down Enter"]);

        const refused = async (call: Promise<void>) =>
          call.then(
            () => undefined,
            (error: unknown) => error,
          );
        const badKey = await refused(queue.sendToTask("in-2", { type: "keys", keys: ["Nope" as "Enter"] }));
        expect(TaskInputError.isInstance(badKey) && badKey.message).toMatch(/^input\.keys\.0: /);
        expect(
          TaskNotFoundError.isInstance(await refused(queue.sendToTask("nobody", { type: "text", text: "x" }))),
        ).toBe(true);
        expect(TaskResumeError.isInstance(await refused(queue.resumeTask("in-2")))).toBe(true);
        expect(await scriptedInputs(root, "in-2")).toEqual(["keys Down Enter"]);

        await queue.cancelTask("in-1");
        expect(await queue.waitForOutcome("in-1")).toEqual({ status: "cancelled" });
        const ended = await refused(queue.sendToTask("in-1", { type: "text", text: "too late" }));
        expect(TaskNotRunningError.isInstance(ended)).toBe(true);

        // Resumed: taken again by a worker, as a second run that goes on from where the first stood.
        const before = events.events.length;
        await queue.resumeTask("in-1");
        await events.next(
          (e) =>
            events.events.indexOf(e) >= before &&
            e.processId === "in-1" &&
            e.type === "task" &&
            e.event.type === "progress" &&
            e.event.percent === 10,
        );
        expect(events.events.slice(before)).toContainEqual(expect.objectContaining({ type: "started", run: 2 }));
        expect(await queue.getTask("in-1")).toMatchObject({ state: "running", runs: 2, cancelRequested: false });
        // Whether it adopted depends on whether the killed agent was reaped yet (as a zombie it still answers kill -0).
        expect((await scriptedStarts(root, "in-1")).map((start) => start.resumed)).toEqual([false, true]);
        await queue.sendToTask("in-1", { type: "text", text: "go on" });
        expect(await scriptedInputs(root, "in-1")).toEqual(['text "fix the build" submit', 'text "go on"']);
      } finally {
        for (const id of ["in-1", "in-2"]) await queue.cancelTask(id).catch(() => undefined);
        await Promise.all(["in-1", "in-2"].map((id) => queue.waitForOutcome(id)));
        await events.stop();
      }
    });
  });

  it("with Redis away a submit fails with QueueUnavailableError; once it is back the worker reconnects and runs what was queued", async () => {
    await withQueue("outage", async (queue, worker) => {
      await worker();
      await queue.submitTask("scripted", { ms: 1500 }, { processId: "before-1" });
      await redis.halt();
      const refused = await queue
        .submitTask("scripted", { ms: 1 }, { processId: "during-1" })
        .catch((error: unknown) => error);
      expect(QueueUnavailableError.isInstance(refused)).toBe(true);
      const listing = await queue.listTasks().catch((error: unknown) => error);
      expect(QueueUnavailableError.isInstance(listing)).toBe(true);
      await redis.resume();
      await queue.submitTask("scripted", { ms: 1 }, { processId: "after-1" });
      expect(await queue.waitForOutcome("after-1")).toMatchObject({ status: "done" });
      expect(await queue.waitForOutcome("before-1")).toMatchObject({ status: "done" });
      expect((await queue.listTasks()).map((t) => t.processId).sort()).toEqual(["after-1", "before-1"]);
    });
  });
});
