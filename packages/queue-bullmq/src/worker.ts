import os from "node:os";
import { runTask, type StateStore, type Task, type TaskEvent, TaskReleasedError, type TaskRun } from "@optio/agents";
import type { SSHConfigInput } from "@optio/host";
import { type Job, WaitingError, Worker } from "bullmq";
import { Redis } from "ioredis";
import * as z from "zod/mini";
import { connectionFields, parseOptions, reconnectOptions } from "./connection-options.js";
import {
  cancelChannel,
  FIELD,
  type JobData,
  type QueuedTaskOutcome,
  type QueueTaskMessage,
  queuedEvent,
  queuedOutcome,
  REPORTS_KEPT,
  reportsKey,
  taskKey,
} from "./queue-records.js";
import { startBlobSweeper } from "./blob-sweep.js";
import { storeIsBack, storeOutageIn } from "./store-outage.js";
import { deliverInput, inputChannel } from "./task-input.js";
import { kindNamed, kindsByName, parsePayload, type AnyTaskKind } from "./task-kind.js";

const workerOptionsSchema = z.object({
  ...connectionFields,
  /** The task kinds this worker runs; a job of another kind fails with UnknownTaskKindError. */
  kinds: z.array(z.custom<AnyTaskKind>()).check(z.minLength(1, "needs at least one task kind")),
  /** Where snapshots and seeds live; shared by every worker (a PostgresStateStore) so any of them can resume any task. */
  store: z.custom<StateStore>(
    (value) => typeof (value as StateStore | null)?.putBlob === "function",
    "must be a StateStore",
  ),
  /** How many tasks this worker runs at once; default 4. */
  concurrency: z._default(z.int().check(z.minimum(1), z.maximum(1000)), 4),
  /** SSH hosts by name, handed to each task kind so payloads can name a host without carrying its credentials. */
  hosts: z._default(z.record(z.string(), z.custom<SSHConfigInput>()), {}),
  /** This worker's id as `listTasks` shows it; default `<hostname>-<pid>`. */
  workerId: z.optional(
    z.string().check(z.regex(/^[A-Za-z0-9._:-]{1,128}$/, "must be 1-128 characters of [A-Za-z0-9._:-]")),
  ),
  /** How long a task's lock lives without renewal: a dead worker's task is taken over within about this plus `stalledIntervalMs`; default 10 s. */
  lockMs: z._default(z.int().check(z.minimum(1000)), 10_000),
  /** How often this worker looks for tasks whose worker died; default 2.5 s. */
  stalledIntervalMs: z._default(z.int().check(z.minimum(500)), 2_500),
  /** How many times a task may lose its worker before it is failed instead of taken over; default 20. */
  maxStalledCount: z._default(z.int().check(z.minimum(1)), 20),
  /** How long a task whose state store went away waits for it to come back before it fails with the store's error; default 10 min. */
  storeOutageMs: z._default(z.int().check(z.minimum(0)), 600_000),
  /**
   * How often this worker deletes the store's blobs that no snapshot or seed record refers to (left by a worker
   * killed between a blob and its record), the first time as it starts; 0 never; default 1 h.
   */
  blobSweepEveryMs: z._default(z.int().check(z.minimum(0)), 3_600_000),
  /** How old such a blob must be before a sweep deletes it: longer than any capture takes from its first blob to its record; default 24 h. */
  blobGraceMs: z._default(z.int().check(z.minimum(0)), 86_400_000),
  /** Called with each error the worker recovers from by itself (a lost Redis connection, a failed fetch), e.g. to log it; they are dropped by default. */
  onError: z.optional(z.custom<(error: Error) => void>((value) => typeof value === "function", "must be a function")),
});

export type WorkerOptions = z.input<typeof workerOptionsSchema>;

export interface CloseWorkerOptions {
  /** Wait for the running tasks to end here; by default they are handed back to the queue for another worker to adopt. */
  drain?: boolean;
}

/** A worker process's handle on the queue. */
export interface TaskWorker {
  readonly id: string;
  /** The processIds running here now. */
  running(): string[];
  /**
   * Stops taking tasks. Without `drain`, the running tasks go back to the
   * queue at once and another worker takes them over (adopting live agents):
   * their runs here let go of them, leaving each agent running, unrecorded.
   */
  close(options?: CloseWorkerOptions): Promise<void>;
}

interface Running {
  readonly controller: AbortController;
  readonly job: Job<JobData, QueuedTaskOutcome>;
  readonly token: string;
  /** Aborted when the task is handed over, ending a wait for the store. */
  readonly handover: AbortController;
  handedOver: boolean;
  /** The Task of the current run, which input for this task is handed to. */
  task?: Task;
  /** The current run, released when the task is handed over. */
  run?: TaskRun;
}

/** How long `close()` waits for the runs it handed over to let go of their agents. */
const LET_GO_BOUND_MS = 10_000;

/**
 * Stops following a task another worker takes (or took) over, without ending
 * it: its run is released, so the agent keeps running for that worker to
 * adopt, and no outcome is recorded here.
 */
function handOver(entry: Running): void {
  entry.handedOver = true;
  entry.handover.abort();
  entry.run?.release();
}

/** Starts a worker: it takes tasks from the queue, runs them with `runTask`, and records one outcome per task. */
export async function startWorker(options: WorkerOptions): Promise<TaskWorker> {
  const parsed = parseOptions(workerOptionsSchema, options, "worker");
  const { redisUrl, queueName, prefix, store, hosts } = parsed;
  const kinds = kindsByName(parsed.kinds);
  const workerId = parsed.workerId ?? `${os.hostname()}-${process.pid}`;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null, ...reconnectOptions });
  redis.on("error", () => {});
  const running = new Map<string, Running>();
  let handingOver = false;
  const keyOf = (processId: string) => taskKey(prefix, queueName, processId);

  const publish = (job: Job<JobData, QueuedTaskOutcome>, event: QueueTaskMessage) => {
    job.updateProgress(event as never).catch(() => {});
  };

  const record = (job: Job<JobData, QueuedTaskOutcome>, processId: string, event: TaskEvent) => {
    if (event.type === "progress")
      redis
        .hset(
          keyOf(processId),
          FIELD.progress,
          JSON.stringify({
            percent: event.percent,
            ...(event.message === undefined ? {} : { message: event.message }),
          }),
        )
        .catch(() => {});
    if (event.type === "widget") {
      const key = keyOf(processId);
      (event.widget ? redis.hset(key, FIELD.widget, event.widget.url) : redis.hdel(key, FIELD.widget)).catch(() => {});
    }
    if (event.type === "report") {
      const key = reportsKey(prefix, queueName, processId);
      redis
        .multi()
        .rpush(key, JSON.stringify({ level: event.level, message: event.message }))
        .ltrim(key, -REPORTS_KEPT, -1)
        .exec()
        .catch(() => {});
    }
    publish(job, { type: "task", event: queuedEvent(event) });
  };

  /** Aborts those of `ids` whose cancel flag is set. */
  const abortIfCancelled = async (ids: string[]) => {
    if (ids.length === 0) return;
    const batch = redis.pipeline();
    for (const id of ids) batch.hexists(keyOf(id), FIELD.cancel);
    const results = await batch.exec();
    ids.forEach((id, index) => {
      if (results?.[index]?.[1] === 1) running.get(id)?.controller.abort();
    });
  };

  const processJob = async (job: Job<JobData, QueuedTaskOutcome>, token?: string): Promise<QueuedTaskOutcome> => {
    const processId = String(job.id);
    const key = keyOf(processId);
    // A job fetched while this worker hands its tasks over goes straight back for another worker.
    if (handingOver) {
      await job.moveToWait(token);
      throw new WaitingError();
    }
    if ((await redis.hexists(key, FIELD.cancel)) === 1) return { status: "cancelled" };
    const kind = kindNamed(kinds, job.data.kind);
    const payload = parsePayload(kind, job.data.payload);
    const run = await redis.multi().hincrby(key, FIELD.runs, 1).hset(key, FIELD.worker, workerId).exec();
    const runNumber = Number(run?.[0]?.[1] ?? 1);
    publish(job, { type: "started", worker: workerId, run: runNumber });
    const entry: Running = {
      controller: new AbortController(),
      job,
      token: token ?? "",
      handover: new AbortController(),
      handedOver: false,
    };
    running.set(processId, entry);
    try {
      // A cancel published between the check above and now reached no running task; its flag is there.
      await abortIfCancelled([processId]);
      if (entry.controller.signal.aborted) return { status: "cancelled" };
      // A task that ran before (its worker died or handed it over) continues: adopting the live agent, or from its latest snapshot.
      for (let resume = runNumber > 1; ; resume = true) {
        const task = await kind.create(payload, { processId, workerId, hosts });
        if (entry.handedOver) throw new WaitingError();
        entry.task = task;
        entry.run = runTask(task, {
          store,
          resume,
          signal: entry.controller.signal,
          onEvent: (event) => record(job, processId, event),
        });
        const outcome = await entry.run.outcome.catch((error: unknown) => {
          throw TaskReleasedError.isInstance(error) ? new WaitingError() : error;
        });
        if (entry.handedOver) throw new WaitingError();
        const outage = outcome.status === "failed" ? storeOutageIn(outcome.error) : undefined;
        if (!outage) return queuedOutcome(outcome);
        if (entry.controller.signal.aborted) return { status: "cancelled" };
        // The store went away under the task: what it refused is not there (a blob or a snapshot is written in one
        // transaction, or not at all) and the agent lives on, so once the store answers the task goes on from where it
        // stood, adopting that agent, and writes again what was refused; one outcome is recorded either way.
        record(job, processId, {
          type: "report",
          level: "warn",
          message: `${outage.code}: ${outage.message}; the task goes on once the state store is back`,
        });
        const waiting = AbortSignal.any([entry.controller.signal, entry.handover.signal]);
        const back = await storeIsBack(store, processId, waiting, parsed.storeOutageMs);
        if (entry.handedOver) throw new WaitingError();
        // Cancelled while waiting: one more run, already cancelled, lets the task end its agent itself.
        if (!back && !entry.controller.signal.aborted) return queuedOutcome(outcome);
      }
    } finally {
      // This worker may have taken the task again (its lock lapsed, then it came back to the queue) while this run let go.
      if (running.get(processId) === entry) running.delete(processId);
    }
  };

  const worker = new Worker<JobData, QueuedTaskOutcome>(queueName, processJob, {
    connection: { url: redisUrl, ...reconnectOptions },
    prefix,
    concurrency: parsed.concurrency,
    lockDuration: parsed.lockMs,
    stalledInterval: parsed.stalledIntervalMs,
    maxStalledCount: parsed.maxStalledCount,
    name: workerId,
    // A fetch or completion that failed on a lost connection is tried again this soon, not after BullMQ's 15 s,
    // so a worker is back at work within about a second of Redis, like its connections.
    runRetryDelay: 1000,
  });
  const onError = parsed.onError ?? (() => {});
  worker.on("error", (error) => onError(error));
  // A lock that could not be renewed lapsed (this worker was stalled past lockMs, or lost Redis that long) or was
  // taken: the task is, or soon is, another worker's, which adopts its agent. Following it here too would record
  // nothing (the job is no longer this worker's) but stop that agent at the end; letting go leaves it running.
  worker.on("lockRenewalFailed", (jobIds) => {
    for (const jobId of jobIds) {
      const entry = running.get(jobId);
      if (entry && !entry.handedOver) handOver(entry);
    }
  });

  // Cancels arrive as messages, so the owner stops a task as soon as it is asked; a subscriber that was
  // disconnected may have missed some, so each time it is ready again the flags of the running tasks are read.
  const cancels = redis.duplicate();
  cancels.on("error", () => {});
  const inputs = inputChannel(prefix, queueName);
  cancels.on("message", (channel: string, message: string) => {
    if (channel === inputs) deliverInput(message, (processId) => running.get(processId)?.task, redis).catch(() => {});
    else running.get(message)?.controller.abort();
  });
  cancels.on("ready", () => {
    abortIfCancelled([...running.keys()]).catch(() => {});
  });
  await cancels.subscribe(cancelChannel(prefix, queueName), inputs);

  await worker.waitUntilReady();
  const sweeper = startBlobSweeper(store, { everyMs: parsed.blobSweepEveryMs, graceMs: parsed.blobGraceMs }, onError);

  let closing: Promise<void> | undefined;
  return {
    id: workerId,
    running: () => [...running.keys()],
    close({ drain = false } = {}) {
      closing ??= (async () => {
        await sweeper.stop();
        if (drain) {
          await worker.close();
        } else {
          handingOver = true;
          await worker.pause(true);
          const entries = [...running.values()];
          await Promise.all(
            entries.map(async (entry) => {
              handOver(entry);
              await entry.job.moveToWait(entry.token).catch(() => {});
            }),
          );
          await worker.close(true);
          // Bounded: a task kind that ignores its signal must not hold the close up.
          const lettingGo = Promise.allSettled(entries.map((entry) => entry.run?.outcome));
          await Promise.race([lettingGo, new Promise((resolve) => setTimeout(resolve, LET_GO_BOUND_MS).unref())]);
        }
        await Promise.all([cancels, redis].map((connection) => connection.quit().catch(() => connection.disconnect())));
      })();
      return closing;
    },
  };
}
