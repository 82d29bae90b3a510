import { type Job, Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { OptioError, validateProcessId } from "@optio/host";
import * as z from "zod/mini";
import { connectionFields, parseOptions, reconnectOptions } from "./connection-options.js";
import {
  QueueUnavailableError,
  TaskExistsError,
  TaskInputError,
  TaskNotFoundError,
  TaskNotRunningError,
  TaskResumeError,
} from "./errors.js";
import {
  cancelChannel,
  FIELD,
  type JobData,
  type QueuedTask,
  type QueuedTaskOutcome,
  type QueuedTaskState,
  type QueueTaskEvent,
  type QueueTaskMessage,
  reportsKey,
  taskKey,
} from "./queue-records.js";
import { inputChannel, requestInput, type TaskInput, taskInputSchema } from "./task-input.js";
import { kindNamed, kindsByName, parsePayload, type AnyTaskKind } from "./task-kind.js";

const queueOptionsSchema = z.object({
  ...connectionFields,
  /** The kinds this client may submit; a payload is checked against its kind's schema before it is queued. */
  kinds: z._default(z.array(z.custom<AnyTaskKind>()), []),
  /** How long a call waits for a lost connection to come back before failing with QueueUnavailableError; default 3 s. */
  connectTimeoutMs: z._default(z.int().check(z.minimum(0)), 3_000),
  /** How long `sendToTask` waits for the worker running the task to say the input was typed; default 5 s. */
  inputTimeoutMs: z._default(z.int().check(z.minimum(1)), 5_000),
});

export type TaskQueueOptions = z.input<typeof queueOptionsSchema>;

export interface SubmitOptions {
  /** The task's id: unique in the queue, and the id its snapshots are stored under. */
  processId: string;
}

export interface WatchOptions {
  /** Only this task's events; every task's when absent. */
  processId?: string;
  /** Ends the stream. */
  signal?: AbortSignal;
}

/** A client of the queue, usable from any process: submit, cancel, list and watch tasks wherever they run. */
export interface TaskQueue {
  /** Queues a task of `kind`; refuses a payload that fails the kind's schema (TaskPayloadError naming the field). */
  submitTask(kind: string, payload: unknown, options: SubmitOptions): Promise<void>;
  /** Asks for the task to end: a running one is stopped by its worker within a second; a queued one never runs. */
  cancelTask(processId: string): Promise<void>;
  /**
   * Types into a running task's agent through the worker that runs it (text,
   * or named keys such as an answer to a permission prompt); resolves once it
   * was typed there. TaskNotRunningError when the task is not running;
   * TaskInputError when the input is malformed, the agent refuses it, or no
   * worker answers within `inputTimeoutMs`.
   */
  sendToTask(processId: string, input: TaskInput): Promise<void>;
  /**
   * Runs an ended task (cancelled, failed or done) again: the worker that
   * takes it adopts its agent if that still lives, or resumes the session from
   * its latest snapshot. TaskResumeError while it is queued or running.
   */
  resumeTask(processId: string): Promise<void>;
  /** Every task the queue holds, newest first. */
  listTasks(): Promise<QueuedTask[]>;
  /** One task, or undefined. */
  getTask(processId: string): Promise<QueuedTask | undefined>;
  /** Live events of one task or all, from now on, until `signal` aborts. */
  watch(options?: WatchOptions): AsyncIterable<QueueTaskEvent>;
  /** The task's outcome once it has one. */
  waitForOutcome(processId: string, signal?: AbortSignal): Promise<QueuedTaskOutcome>;
  close(): Promise<void>;
}

const STATES: readonly string[] = [
  "waiting",
  "prioritized",
  "delayed",
  "active",
  "completed",
  "failed",
  "paused",
  "waiting-children",
];

/** Wraps a Redis failure in QueueUnavailableError; optio errors pass through. */
export async function unlessUnavailable<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (OptioError.isInstance(error)) throw error;
    throw new QueueUnavailableError(
      `${what}: Redis is unavailable (${error instanceof Error ? error.message : String(error)})`,
      { cause: error },
    );
  }
}

function stateOf(jobState: string, outcome: QueuedTaskOutcome | undefined): QueuedTaskState {
  if (jobState === "active") return "running";
  if (jobState === "failed") return "failed";
  if (jobState === "completed") return outcome?.status ?? "done";
  return "waiting";
}

function parseJson<T>(text: string | undefined): T | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** QueueEvents hands the return value over as JSON text. */
function outcomeOf(returnvalue: unknown): QueuedTaskOutcome {
  return (
    typeof returnvalue === "string" ? parseJson<QueuedTaskOutcome>(returnvalue) : returnvalue
  ) as QueuedTaskOutcome;
}

/** Connects a client to the queue. Nothing is opened until the first call. */
export function connectTaskQueue(options: TaskQueueOptions): TaskQueue {
  const {
    redisUrl,
    queueName,
    prefix,
    kinds: kindList,
    connectTimeoutMs,
    inputTimeoutMs,
  } = parseOptions(queueOptionsSchema, options, "queue");
  const kinds = kindsByName(kindList);
  // A client fails fast while Redis is away (a typed error to the caller) instead of queueing commands in memory;
  // the queue shares the connection, so one reconnect serves both.
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    ...reconnectOptions,
  });
  redis.on("error", () => {});
  const queue = new Queue<JobData, QueuedTaskOutcome>(queueName, { connection: redis, prefix });
  queue.on("error", () => {});
  let events: Promise<QueueEvents> | undefined;
  const openEvents = async () => {
    await ready();
    // Read on from the stream's current end, not from whenever the reader's first XREAD happens to run:
    // an event in between would be lost, and a task that ended there would never be seen to end.
    const [last] = await redis.xrevrange(`${prefix}:${queueName}:events`, "+", "-", "COUNT", 1);
    const source = new QueueEvents(queueName, {
      connection: { url: redisUrl, ...reconnectOptions },
      prefix,
      lastEventId: last?.[0] ?? "0-0",
    });
    source.on("error", () => {});
    // One listener pair per waiting caller: many outcomes awaited at once are expected.
    source.setMaxListeners(0);
    await source.waitUntilReady();
    return source;
  };
  const queueEvents = () => {
    events ??= openEvents().catch((error: unknown) => {
      events = undefined;
      throw error;
    });
    return events;
  };
  // A call made while the client reconnects waits for it, within a bound, before failing as unavailable.
  const ready = async () => {
    if (redis.status === "wait") await redis.connect();
    if (redis.status === "ready") return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => settle(new Error(`not connected within ${connectTimeoutMs} ms`)),
        connectTimeoutMs,
      );
      const onReady = () => settle();
      const settle = (error?: Error) => {
        clearTimeout(timer);
        redis.off("ready", onReady);
        if (error) reject(error);
        else resolve();
      };
      redis.on("ready", onReady);
    });
  };

  const describe = async (job: Job<JobData, QueuedTaskOutcome>): Promise<QueuedTask> => {
    const processId = String(job.id);
    const [jobState, fields, reports] = await Promise.all([
      job.getState(),
      redis.hgetall(taskKey(prefix, queueName, processId)),
      redis.lrange(reportsKey(prefix, queueName, processId), 0, -1),
    ]);
    const outcome = jobState === "completed" ? job.returnvalue : undefined;
    const progress = parseJson<QueuedTask["progress"]>(fields[FIELD.progress]);
    return {
      processId,
      kind: job.data.kind,
      state: stateOf(jobState, outcome),
      ...(fields[FIELD.worker] ? { worker: fields[FIELD.worker] } : {}),
      ...(fields[FIELD.widget] ? { widgetUrl: fields[FIELD.widget] } : {}),
      ...(progress ? { progress } : {}),
      runs: Number(fields[FIELD.runs] ?? 0),
      cancelRequested: fields[FIELD.cancel] !== undefined,
      reports: reports.flatMap((line) => parseJson<QueuedTask["reports"][number]>(line) ?? []),
      ...(outcome
        ? { outcome }
        : jobState === "failed"
          ? { outcome: { status: "failed" as const, message: job.failedReason } }
          : {}),
      submittedAt: new Date(job.timestamp).toISOString(),
    };
  };

  return {
    async submitTask(kindName, payload, { processId }) {
      validateProcessId(processId);
      const kind = kindNamed(kinds, kindName);
      const data: JobData = { kind: kind.name, payload: parsePayload(kind, payload) };
      await unlessUnavailable(`submitting ${processId}`, async () => {
        await ready();
        if (await queue.getJob(processId))
          throw new TaskExistsError(`a task ${processId} is already in the queue ${queueName}`);
        await queue.add(kind.name, data, { jobId: processId, attempts: 1 });
      });
    },

    async cancelTask(processId) {
      validateProcessId(processId);
      await unlessUnavailable(`cancelling ${processId}`, async () => {
        await ready();
        if (!(await queue.getJob(processId)))
          throw new TaskNotFoundError(`no task ${processId} in the queue ${queueName}`);
        // The flag outlives the message: a worker that takes the task later returns "cancelled" without running it,
        // and one that missed the message while its connection was down finds the flag when it is back.
        await redis.hsetnx(taskKey(prefix, queueName, processId), FIELD.cancel, new Date().toISOString());
        await redis.publish(cancelChannel(prefix, queueName), processId);
      });
    },

    async sendToTask(processId, input) {
      validateProcessId(processId);
      const parsed = taskInputSchema.safeParse(input);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new TaskInputError(`input${issue?.path.map((p) => `.${String(p)}`).join("") ?? ""}: ${issue?.message}`, {
          cause: parsed.error,
        });
      }
      await unlessUnavailable(`typing into ${processId}`, async () => {
        await ready();
        const job = await queue.getJob(processId);
        if (!job) throw new TaskNotFoundError(`no task ${processId} in the queue ${queueName}`);
        const state = await job.getState();
        if (state !== "active") throw new TaskNotRunningError(`task ${processId} is not running (${state})`);
        await requestInput(redis, inputChannel(prefix, queueName), processId, parsed.data, inputTimeoutMs);
      });
    },

    async resumeTask(processId) {
      validateProcessId(processId);
      await unlessUnavailable(`resuming ${processId}`, async () => {
        await ready();
        const job = await queue.getJob(processId);
        if (!job) throw new TaskNotFoundError(`no task ${processId} in the queue ${queueName}`);
        const state = await job.getState();
        if (state !== "completed" && state !== "failed")
          throw new TaskResumeError(`task ${processId} has not ended (${state}): only an ended task is resumed`);
        // A cancel belonged to the run that ended; the resumed run is a new request.
        await redis.hdel(taskKey(prefix, queueName, processId), FIELD.cancel);
        await job.retry(state);
      });
    },

    async listTasks() {
      return unlessUnavailable("listing tasks", async () => {
        await ready();
        const jobs = (await queue.getJobs(STATES as never)) as Job<JobData, QueuedTaskOutcome>[];
        const tasks = await Promise.all(jobs.filter((job) => job?.id).map(describe));
        return tasks.sort((a, b) => b.submittedAt.localeCompare(a.submittedAt));
      });
    },

    async getTask(processId) {
      validateProcessId(processId);
      return unlessUnavailable(`reading ${processId}`, async () => {
        await ready();
        const job = (await queue.getJob(processId)) as Job<JobData, QueuedTaskOutcome> | undefined;
        return job ? describe(job) : undefined;
      });
    },

    watch({ processId, signal } = {}) {
      return {
        async *[Symbol.asyncIterator]() {
          const source = await unlessUnavailable("watching tasks", queueEvents);
          const pending: QueueTaskEvent[] = [];
          let wake: (() => void) | undefined;
          const push = (event: QueueTaskEvent) => {
            if (processId !== undefined && event.processId !== processId) return;
            pending.push(event);
            wake?.();
          };
          const onProgress = ({ jobId, data }: { jobId: string; data: unknown }) => {
            const message = data as QueueTaskMessage;
            if (message && typeof message === "object" && "type" in message)
              push({ ...message, processId: jobId } as QueueTaskEvent);
          };
          const onCompleted = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) =>
            push({ processId: jobId, type: "outcome", outcome: outcomeOf(returnvalue) });
          const onFailed = ({ jobId, failedReason }: { jobId: string; failedReason: string }) =>
            push({ processId: jobId, type: "outcome", outcome: { status: "failed", message: failedReason } });
          const onAbort = () => wake?.();
          source.on("progress", onProgress as never);
          source.on("completed", onCompleted as never);
          source.on("failed", onFailed as never);
          signal?.addEventListener("abort", onAbort);
          try {
            while (!signal?.aborted) {
              const next = pending.shift();
              if (next) {
                yield next;
                continue;
              }
              await new Promise<void>((resolve) => (wake = resolve));
              wake = undefined;
            }
          } finally {
            source.off("progress", onProgress as never);
            source.off("completed", onCompleted as never);
            source.off("failed", onFailed as never);
            signal?.removeEventListener("abort", onAbort);
          }
        },
      };
    },

    async waitForOutcome(processId, signal) {
      validateProcessId(processId);
      const source = await unlessUnavailable("watching tasks", queueEvents);
      return new Promise<QueuedTaskOutcome>((resolve, reject) => {
        const finish = (result: { outcome: QueuedTaskOutcome } | { error: unknown }) => {
          source.off("completed", onCompleted as never);
          source.off("failed", onFailed as never);
          signal?.removeEventListener("abort", onAbort);
          if ("outcome" in result) resolve(result.outcome);
          else reject(result.error);
        };
        const onCompleted = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => {
          if (jobId === processId) finish({ outcome: outcomeOf(returnvalue) });
        };
        const onFailed = ({ jobId, failedReason }: { jobId: string; failedReason: string }) => {
          if (jobId === processId) finish({ outcome: { status: "failed", message: failedReason } });
        };
        const onAbort = () => finish({ error: signal?.reason });
        source.on("completed", onCompleted as never);
        source.on("failed", onFailed as never);
        signal?.addEventListener("abort", onAbort, { once: true });
        // Subscribed first, then read: a task that ended before the subscription is seen here.
        this.getTask(processId).then(
          (task) => {
            if (!task) finish({ error: new TaskNotFoundError(`no task ${processId} in the queue ${queueName}`) });
            else if (task.outcome && task.state !== "running" && task.state !== "waiting")
              finish({ outcome: task.outcome });
          },
          (error: unknown) => finish({ error }),
        );
      });
    },

    async close() {
      await Promise.allSettled([queue.close(), events?.then((source) => source.close())]);
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
