import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import os from "node:os";
import path from "node:path";
import { StateNotFoundError } from "@optio/agents";
import { PostgresStateStore } from "@optio/store-postgres";
import { startTestPostgres, type TestPostgres } from "@optio/store-postgres/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exitOf, lineFrom, startTestSshd, type TestSshd } from "@optio/host/testing";
import { type ChildWorkerOptions, spawnCancelProcess, startWorkerProcesses } from "./child-worker.js";
import { scriptedLaunches, scriptedReleases, scriptedStarts, scriptedTaskKind } from "./scripted-kind.js";
import { connectTaskQueue } from "./task-queue.js";
import { recordEvents } from "./test-watch.js";

/** Running, not just a zombie waiting for a parent (here often no init) to reap it. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}
import { startTestRedis, type TestRedis } from "./test-redis.js";

let redis: TestRedis;
let postgres: TestPostgres;
let sshd: TestSshd;
let databaseUrl: string;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  [redis, postgres, sshd] = await Promise.all([startTestRedis(), startTestPostgres(), startTestSshd()]);
  databaseUrl = await postgres.createDatabase("queue");
  dir = await mkdtemp(path.join(os.tmpdir(), "optio-workers-"));
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await Promise.all(children.map(exitOf));
  await Promise.all([redis?.stop(), postgres?.stop(), sshd?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function startWorkers(
  queueName: string,
  root: string,
  ids: string[],
  concurrency: number,
  blobSweep?: ChildWorkerOptions["blobSweep"],
): Promise<ChildProcess[]> {
  return startWorkerProcesses(
    {
      redisUrl: redis.url,
      databaseUrl,
      queueName,
      root,
      concurrency,
      hosts: { sshd: sshd.sshConfig() },
      ...(blobSweep ? { blobSweep } : {}),
    },
    ids,
    children,
  );
}

/** A client of `queueName`, the events it sees and a store, the scripted kind keeping its files under `root`. */
function onQueue(queueName: string) {
  const root = path.join(dir, queueName);
  const queue = connectTaskQueue({ redisUrl: redis.url, queueName, kinds: [scriptedTaskKind(root)] });
  const events = recordEvents(queue);
  const store = new PostgresStateStore({ connectionString: databaseUrl });
  const close = async () => {
    await events.stop();
    await store.close();
    await queue.close();
  };
  return { queueName, root, queue, events, store, close };
}

describe("workers in separate processes on real redis and postgres", () => {
  it("a cancel from another process ends a task running on whichever worker owns it", async () => {
    const queueName = "cancel";
    const root = path.join(dir, queueName);
    const queue = connectTaskQueue({ redisUrl: redis.url, queueName, kinds: [scriptedTaskKind(root)] });
    const events = recordEvents(queue);
    try {
      const workers = await startWorkers(queueName, root, ["c-a", "c-b"], 2);
      for (const id of ["long-0", "long-1", "long-2"])
        await queue.submitTask("scripted", { ms: 600_000 }, { processId: id });
      const started = await Promise.all(
        ["long-0", "long-1", "long-2"].map((id) =>
          events.next((e) => e.processId === id && e.type === "task" && e.event.type === "widget"),
        ),
      );
      expect(started).toHaveLength(3);
      const owners = new Map((await queue.listTasks()).map((t) => [t.processId, t.worker]));
      expect(new Set(owners.values())).toEqual(new Set(["c-a", "c-b"]));
      for (const id of ["long-0", "long-1", "long-2"]) {
        const canceller = spawnCancelProcess(redis.url, queueName, id);
        children.push(canceller);
        await lineFrom(canceller, "CANCELLED:");
        const asked = performance.now();
        // The owner hears of it at once (a published message), stops the agent and records the outcome within a second.
        expect(await events.next((e) => e.processId === id && e.type === "outcome")).toMatchObject({
          outcome: { status: "cancelled" },
        });
        expect(performance.now() - asked).toBeLessThan(1000);
        expect(await queue.waitForOutcome(id)).toEqual({ status: "cancelled" });
      }
      const tasks = await queue.listTasks();
      expect(tasks.map((t) => [t.processId, t.state, t.runs])).toEqual(
        expect.arrayContaining([
          ["long-0", "cancelled", 1],
          ["long-1", "cancelled", 1],
          ["long-2", "cancelled", 1],
        ]),
      );
      // The cancelled tasks' agents are gone, not left running on the host.
      for (const id of ["long-0", "long-1", "long-2"]) {
        for (const pid of await scriptedLaunches(root, id)) expect(alive(pid), `agent ${pid} of ${id}`).toBe(false);
      }
      for (const worker of workers) worker.stdin?.write("drain\n");
      await Promise.all(workers.map((w) => lineFrom(w, "CLOSED:")));
    } finally {
      await events.stop();
      await queue.close();
    }
  });

  it("a worker whose lock lapsed (its process stopped past the lock's life) lets go of its task without ending it: the other worker adopts the same agent and records the one outcome", async () => {
    const { queueName, root, queue, events, store, close } = onQueue("lapse");
    const id = "lapse-1";
    let pid = 0;
    try {
      const [stalled] = await startWorkers(queueName, root, ["w-stalled"], 1);
      await queue.submitTask("scripted", { ms: 600_000 }, { processId: id });
      await events.next((e) => e.processId === id && e.type === "task" && e.event.type === "widget");
      [pid] = (await scriptedLaunches(root, id)) as [number];
      // Stopped as a long pause of its event loop would stop it: its lock lapses while it still holds the task.
      stalled!.kill("SIGSTOP");
      const [adopter] = await startWorkers(queueName, root, ["w-adopt"], 1);
      await events.next(
        (e) =>
          e.processId === id &&
          e.type === "task" &&
          e.event.type === "report" &&
          e.event.message === `agent ${pid} adopted by w-adopt`,
      );
      // Running again, it finds its lock taken, and lets go of the task without stopping the agent the adopter follows.
      stalled!.kill("SIGCONT");
      for (const deadline = Date.now() + 30_000; (await scriptedReleases(root, id)).length === 0; await sleep(50))
        expect(Date.now(), "the stalled worker to let go").toBeLessThan(deadline);
      expect(await scriptedReleases(root, id)).toEqual(["w-stalled"]);
      expect(alive(pid)).toBe(true);

      await writeFile(path.join(root, id, "agent.done"), "done\n");
      expect(await queue.waitForOutcome(id)).toMatchObject({ status: "done", summary: `pid ${pid}` });
      expect(await scriptedStarts(root, id)).toEqual([
        { worker: "w-stalled", host: "local", resumed: false, adopted: false, pid },
        { worker: "w-adopt", host: "local", resumed: true, adopted: true, pid },
      ]);
      expect(await scriptedLaunches(root, id)).toEqual([pid]);
      expect(events.events.filter((e) => e.processId === id && e.type === "outcome")).toHaveLength(1);
      // Only the adopter went on to the end: the worker that let go stored nothing.
      expect(await store.listSnapshots(id)).toHaveLength(1);
      expect(await queue.getTask(id)).toMatchObject({ state: "done", worker: "w-adopt", runs: 2 });
      for (const worker of [stalled!, adopter!]) worker.stdin?.write("drain\n");
      await Promise.all([stalled!, adopter!].map((w) => lineFrom(w, "CLOSED:")));
    } finally {
      if (pid > 0 && alive(pid)) process.kill(-pid, "SIGKILL");
      await close();
    }
  });

  it("a worker SIGKILLed between a snapshot's blob and its record leaves an orphan blob that the next worker's sweep deletes, keeping the task's own", async () => {
    const { queueName, root, queue, events, store, close } = onQueue("orphan");
    const id = "orphan-1";
    try {
      const [killed] = await startWorkers(queueName, root, ["o-killed"], 1);
      await queue.submitTask("scripted", { ms: 0, stopAfterBlob: true }, { processId: id });
      const held = await events.next(
        (e) =>
          e.processId === id && e.type === "task" && e.event.type === "report" && e.event.message.startsWith("blob "),
      );
      const orphan = (held.type === "task" && held.event.type === "report" ? held.event.message : "").split(" ")[1]!;
      killed!.kill("SIGKILL");
      expect(await exitOf(killed!)).toBe("SIGKILL");
      expect(await store.listBlobIds()).toContain(orphan);

      // Past the grace, the orphan is no longer a blob whose record may still come.
      await sleep(1200);
      const [sweeper] = await startWorkers(queueName, root, ["o-sweeper"], 1, { everyMs: 500, graceMs: 1000 });
      expect(await queue.waitForOutcome(id)).toMatchObject({ status: "done" });
      for (const deadline = Date.now() + 10_000; (await store.listBlobIds()).includes(orphan); await sleep(100))
        expect(Date.now(), "the sweep to delete the orphan").toBeLessThan(deadline);
      await expect(store.getBlob(orphan)).rejects.toSatisfy(StateNotFoundError.isInstance);
      // The run that took the task over stored its snapshot, whose blob the sweeps (every 500 ms) keep.
      const [snapshot] = await store.listSnapshots(id);
      await sleep(1500);
      expect(await store.listBlobIds()).toContain(snapshot!.workdirBlobId);
      expect(events.events.filter((e) => e.processId === id && e.type === "outcome")).toHaveLength(1);
      sweeper!.stdin?.write("drain\n");
      await lineFrom(sweeper!, "CLOSED:");
    } finally {
      await close();
    }
  });

  it("60 tasks over three workers and two hosts, one worker SIGKILLed and one closed mid-run: each ends once, none lost, live agents adopted on both hosts", async () => {
    const { queueName, root, queue, events, store, close } = onQueue("failover");
    const ids = Array.from({ length: 60 }, (_, i) => `task-${i}`);
    // Every third task's agent runs on the test sshd, the others on this machine.
    const hostOf = (id: string) => (Number(id.slice("task-".length)) % 3 === 0 ? "sshd" : "local");
    try {
      const [killed, closed, survivor] = await startWorkers(queueName, root, ["w-kill", "w-close", "w-stay"], 10);
      for (const [i, id] of ids.entries()) {
        const host = hostOf(id);
        await queue.submitTask(
          "scripted",
          { ms: 3000 + (i % 5) * 1000, ...(host === "sshd" ? { host } : {}) },
          { processId: id },
        );
      }
      // Each of the two has a live agent of its own on each host before it goes.
      await Promise.all(
        ["w-kill", "w-close"].flatMap((worker) =>
          ["local", "sshd"].map(async (host) => {
            const started = await events.next(
              (e) => e.type === "started" && e.worker === worker && hostOf(e.processId) === host,
            );
            await events.next(
              (e) => e.processId === started.processId && e.type === "task" && e.event.type === "widget",
            );
          }),
        ),
      );

      killed!.kill("SIGKILL");
      expect(await exitOf(killed!)).toBe("SIGKILL");
      closed!.stdin?.write("close\n");
      await lineFrom(closed!, "CLOSED:");

      const outcomes = await Promise.all(ids.map((id) => queue.waitForOutcome(id)));
      expect(outcomes.every((o) => o.status === "done")).toBe(true);

      for (const id of ids) {
        const starts = await scriptedStarts(root, id);
        // One agent per task, ever: every later run found the same one alive (or finished) and adopted it.
        const launches = await scriptedLaunches(root, id);
        expect(launches, id).toHaveLength(1);
        expect(starts.length, id).toBeGreaterThan(0);
        expect(
          starts.every((s) => s.pid === launches[0] && s.host === hostOf(id)),
          id,
        ).toBe(true);
        expect(
          starts.slice(1).every((s) => s.adopted),
          id,
        ).toBe(true);
        expect(
          events.events.filter((e) => e.processId === id && e.type === "outcome"),
          id,
        ).toHaveLength(1);
        // A run handed over at the moment its agent finished may store a snapshot too; the task's state is there either way.
        expect((await store.listSnapshots(id)).length, id).toBeGreaterThanOrEqual(1);
      }
      // A task whose worker went (killed, or handed over by close) after launching its agent went on elsewhere with that agent, adopted, on either host.
      const takenOver: Record<string, number> = {
        "w-kill local": 0,
        "w-kill sshd": 0,
        "w-close local": 0,
        "w-close sshd": 0,
      };
      for (const id of ids) {
        const starts = await scriptedStarts(root, id);
        for (const [i, start] of starts.entries()) {
          const key = `${start.worker} ${start.host}`;
          if (i + 1 >= starts.length || !(key in takenOver)) continue;
          expect(starts[i + 1], id).toMatchObject({ resumed: true, adopted: true, pid: start.pid });
          expect(starts[i + 1]!.worker, id).not.toBe(start.worker);
          takenOver[key]! += 1;
        }
      }
      expect(Object.entries(takenOver).filter(([, count]) => count === 0)).toEqual([]);
      const tasks = await queue.listTasks();
      expect(tasks).toHaveLength(60);
      expect(tasks.every((t) => t.state === "done")).toBe(true);
      expect(tasks.every((t) => t.worker === "w-stay" || t.runs === 1)).toBe(true);
      survivor!.stdin?.write("drain\n");
      await lineFrom(survivor!, "CLOSED:");
    } finally {
      await close();
    }
  });
});
