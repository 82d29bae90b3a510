import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PostgresStateStore } from "@optio/store-postgres";
import { startTestPostgres, type TestPostgres } from "@optio/store-postgres/testing";
import { exitOf, lineFrom } from "@optio/host/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkerProcesses } from "./child-worker.js";
import { QueueUnavailableError } from "./errors.js";
import { scriptedLaunches, scriptedStarts, scriptedTaskKind } from "./scripted-kind.js";
import { connectTaskQueue } from "./task-queue.js";
import { startTestRedis, type TestRedis } from "./test-redis.js";
import { recordEvents } from "./test-watch.js";

let redis: TestRedis;
let postgres: TestPostgres;
let databaseUrl: string;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  [redis, postgres] = await Promise.all([startTestRedis(), startTestPostgres()]);
  databaseUrl = await postgres.createDatabase("outage");
  dir = await mkdtemp(path.join(os.tmpdir(), "optio-outages-"));
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await Promise.all(children.map(exitOf));
  await Promise.all([redis?.stop(), postgres?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("a server going away under workers in separate processes", () => {
  it("PostgreSQL: tasks that meet the outage report the typed error, wait with their agents alive, and end once each with a whole snapshot when it is back", async () => {
    const queueName = "pg-outage";
    const root = path.join(dir, queueName);
    const queue = connectTaskQueue({ redisUrl: redis.url, queueName, kinds: [scriptedTaskKind(root)] });
    const events = recordEvents(queue);
    const store = new PostgresStateStore({ connectionString: databaseUrl });
    const ids = Array.from({ length: 10 }, (_, i) => `pg-${i}`);
    try {
      const workers = await startWorkerProcesses(
        { redisUrl: redis.url, databaseUrl, queueName, root, concurrency: 6 },
        ["o-a", "o-b"],
        children,
      );
      for (const [i, id] of ids.entries())
        await queue.submitTask("scripted", { ms: 4000 + i * 100 }, { processId: id });
      await Promise.all(
        ids.map((id) => events.next((e) => e.processId === id && e.type === "task" && e.event.type === "widget")),
      );

      await postgres.halt();
      // Redis is still there: a task submitted now is queued and run, and meets the outage too when it writes its snapshot.
      await queue.submitTask("scripted", { ms: 0 }, { processId: "pg-late" });
      const all = [...ids, "pg-late"];
      const reports = await Promise.all(
        // The warnings: the stand-in's own reports (its agent started) come at info level.
        all.map((id) =>
          events.next(
            (e) => e.processId === id && e.type === "task" && e.event.type === "report" && e.event.level === "warn",
          ),
        ),
      );
      for (const report of reports) {
        expect(report.type === "task" && report.event).toMatchObject({
          type: "report",
          level: "warn",
          // The worker's first use of the store may be its schema check rather than the blob itself; either way the step is named.
          message: expect.stringMatching(
            /^state_store_unavailable: (writing a blob|migrating the schema): PostgreSQL is unavailable: .*the task goes on once the state store is back$/,
          ),
        });
      }
      expect(events.events.filter((e) => e.type === "outcome")).toEqual([]);
      expect(workers.map((w) => w.exitCode ?? w.signalCode)).toEqual([null, null]);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expect(events.events.filter((e) => e.type === "outcome")).toEqual([]);
      await postgres.resume();

      const outcomes = await Promise.all(all.map((id) => queue.waitForOutcome(id)));
      expect(outcomes.map((o) => o.status)).toEqual(all.map(() => "done"));
      const tasks = await queue.listTasks();
      expect(tasks.map((t) => [t.processId, t.state, t.runs]).sort()).toEqual(all.map((id) => [id, "done", 1]).sort());
      for (const id of all) {
        expect(
          events.events.filter((e) => e.processId === id && e.type === "outcome"),
          id,
        ).toHaveLength(1);
        // One agent, adopted by the run that went on after the outage, which wrote what the store had refused.
        const launches = await scriptedLaunches(root, id);
        expect(launches, id).toHaveLength(1);
        const starts = await scriptedStarts(root, id);
        expect(starts.length, id).toBeGreaterThanOrEqual(2);
        expect(
          starts.every((s) => s.pid === launches[0]),
          id,
        ).toBe(true);
        expect(
          starts.slice(1).every((s) => s.resumed && s.adopted),
          id,
        ).toBe(true);
        const snapshots = await store.listSnapshots(id);
        expect(snapshots, id).toHaveLength(1);
        const blob = Buffer.concat(await (await store.getBlob(snapshots[0]!.workdirBlobId)).toArray()).toString();
        expect(blob, id).toBe(`${id} ${launches[0]}`);
      }
      // A blob written just before the outage whose record the outage refused is gone: every blob left is a snapshot's.
      const snapshotBlobs = await Promise.all(all.map(async (id) => (await store.listSnapshots(id))[0]!.workdirBlobId));
      expect((await store.listBlobIds()).sort()).toEqual(snapshotBlobs.sort());
      for (const worker of workers) worker.stdin?.write("drain\n");
      await Promise.all(workers.map((w) => lineFrom(w, "CLOSED:")));
    } finally {
      await postgres.resume();
      await events.stop();
      await store.close();
      await queue.close();
    }
  });
  it("Redis: clients get QueueUnavailableError, workers live through it and reconnect; every task ends once with its one agent, and a cancel reaches its worker again", async () => {
    const queueName = "redis-outage";
    const root = path.join(dir, queueName);
    const queue = connectTaskQueue({ redisUrl: redis.url, queueName, kinds: [scriptedTaskKind(root)] });
    const ids = Array.from({ length: 8 }, (_, i) => `rd-${i}`);
    try {
      const workers = await startWorkerProcesses(
        { redisUrl: redis.url, databaseUrl, queueName, root, concurrency: 6 },
        ["r-a", "r-b"],
        children,
      );
      // Some agents finish while Redis is away, some after it is back; the locks of all of them lapse meanwhile.
      for (const [i, id] of ids.entries())
        await queue.submitTask("scripted", { ms: 3000 + i * 1000 }, { processId: id });
      const live = async () => (await queue.listTasks()).filter((t) => t.widgetUrl !== undefined).length;
      while ((await live()) < ids.length) await new Promise((resolve) => setTimeout(resolve, 100));

      await redis.halt();
      const refused = await queue
        .submitTask("scripted", { ms: 1 }, { processId: "rd-during" })
        .catch((error: unknown) => error);
      expect(QueueUnavailableError.isInstance(refused) && refused.code).toBe("queue_unavailable");
      await new Promise((resolve) => setTimeout(resolve, 6000));
      expect(workers.map((w) => w.exitCode ?? w.signalCode)).toEqual([null, null]);
      await redis.resume();

      const outcomes = await Promise.all(ids.map((id) => queue.waitForOutcome(id)));
      expect(outcomes.map((o) => o.status)).toEqual(ids.map(() => "done"));
      for (const id of ids) {
        const launches = await scriptedLaunches(root, id);
        expect(launches, id).toHaveLength(1);
        expect(
          (await scriptedStarts(root, id)).every((s) => s.pid === launches[0]),
          id,
        ).toBe(true);
      }
      expect((await queue.listTasks()).map((t) => [t.processId, t.state]).sort()).toEqual(
        ids.map((id) => [id, "done"]).sort(),
      );

      // The workers' subscriptions came back with the connection: a cancel still stops a running task at once.
      const events = recordEvents(queue);
      try {
        await queue.submitTask("scripted", { ms: 600_000 }, { processId: "rd-cancel" });
        await events.next((e) => e.processId === "rd-cancel" && e.type === "task" && e.event.type === "widget");
        await queue.cancelTask("rd-cancel");
        const asked = performance.now();
        await events.next((e) => e.processId === "rd-cancel" && e.type === "outcome");
        expect(performance.now() - asked).toBeLessThan(1000);
        expect(await queue.waitForOutcome("rd-cancel")).toEqual({ status: "cancelled" });
      } finally {
        await events.stop();
      }
      for (const worker of workers) worker.stdin?.write("drain\n");
      await Promise.all(workers.map((w) => lineFrom(w, "CLOSED:")));
    } finally {
      await redis.resume();
      await queue.close();
    }
  });
});
