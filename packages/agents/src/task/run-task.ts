import { FileStateStore } from "../store/file-state-store.js";
import { TaskReleasedError } from "../spec/errors.js";
import type { StateStore } from "../spec/state-store.js";
import type { Task, TaskContext, TaskEvent, TaskOutcome } from "../spec/task-context.js";

/** How `runTask` runs a task: its store, resume, cancellation and event listener. */
export interface RunTaskOptions {
  /** Where snapshots and seeds live; a FileStateStore by default. */
  store?: StateStore;
  /**
   * Continue the task: when its agent still runs on the host (the worker that
   * ran it died), adopt it — the same process, its terminal served again, its
   * log followed on from the last line that worker turned into events; else
   * restore the latest snapshot, when there is one.
   */
  resume?: boolean;
  /** Aborting cancels the task. */
  signal?: AbortSignal;
  /** Gets every event as it happens. */
  onEvent?: (event: TaskEvent) => void;
  /** Turn Ctrl-C (SIGINT) into cancellation while the task runs. */
  handleSigint?: boolean;
}

/** A running task: its events as they happen, its outcome, and a way to cancel or release it. */
export interface TaskRun {
  /**
   * Every event in order, ending after the outcome event. Read it right
   * after `runTask` returns (the task starts on the next turn of the event
   * loop, so nothing is missed); events are kept only once it is read.
   */
  readonly events: AsyncIterable<TaskEvent>;
  /** How the task ended; rejects with TaskReleasedError when it was released instead. */
  readonly outcome: Promise<TaskOutcome>;
  cancel(): void;
  /**
   * Lets the task go without ending it, because another engine took it over:
   * the task's signal aborts with a TaskReleasedError, an agent task stops
   * following its agent and leaves it running for that engine to adopt, and
   * the run ends with no outcome. Nothing it reports from then on is passed
   * on, no outcome event is sent, and `outcome` rejects with that error.
   */
  release(): void;
}

/** A standalone task engine: runs `task` with a TaskContext of its own and reports typed events. */
export function runTask(task: Task, options: RunTaskOptions = {}): TaskRun {
  const controller = new AbortController();
  const cancel = () => controller.abort();
  const release = () =>
    controller.abort(new TaskReleasedError(`task ${task.processId} was let go: another engine took it over`));
  const released = () => TaskReleasedError.isInstance(controller.signal.reason);
  options.signal?.addEventListener("abort", cancel, { once: true });
  if (options.signal?.aborted) cancel();
  const onSigint = () => cancel();
  if (options.handleSigint) process.on("SIGINT", onSigint);

  let buffered: TaskEvent[] = [];
  let listening = false;
  const waiter: { wake: (() => void) | null } = { wake: null };
  let ended = false;
  const emit = (event: TaskEvent) => {
    // What a released task says while it lets go belongs to no run any more: the adopter reports the task now.
    if (released()) return;
    if (listening) {
      buffered.push(event);
      waiter.wake?.();
    }
    try {
      options.onEvent?.(event);
    } catch {
      // A throwing listener must not break the task it listens to.
    }
  };

  const ctx: TaskContext = {
    processId: task.processId,
    signal: controller.signal,
    resumeRequested: options.resume ?? false,
    store: options.store ?? new FileStateStore(),
    reportProgress: (percent, message) =>
      emit({ type: "progress", percent, ...(message === undefined ? {} : { message }) }),
    setWidget: (widget) => emit({ type: "widget", widget }),
    requestBrowserOpen: (url) => emit({ type: "browser", url }),
    needAttention: (reason) => emit({ type: "attention", reason }),
    reportAgentState: (change) => emit({ type: "agent-state", ...change }),
    reportUsage: (usage) => emit({ type: "usage", ...usage }),
    domainMessage: (keyword, data) => emit({ type: "domain", keyword, data }),
    markHasSavedState: () => emit({ type: "saved-state" }),
    report: (level, message) => emit({ type: "report", level, message }),
  };

  const outcome = (async (): Promise<TaskOutcome> => {
    let result: TaskOutcome;
    await new Promise((resolve) => setImmediate(resolve));
    try {
      result = await task.run(ctx);
    } catch (error) {
      result = controller.signal.aborted
        ? { status: "cancelled" }
        : { status: "failed", message: error instanceof Error ? error.message : String(error), error };
    } finally {
      if (options.handleSigint) process.off("SIGINT", onSigint);
      options.signal?.removeEventListener("abort", cancel);
    }
    if (released()) {
      ended = true;
      waiter.wake?.();
      throw controller.signal.reason;
    }
    emit({ type: "outcome", outcome: result });
    ended = true;
    waiter.wake?.();
    return result;
  })();

  // A caller that only reads the events (or released the task and moved on) leaves no unhandled rejection behind.
  outcome.catch(() => undefined);

  const iterable: AsyncIterable<TaskEvent> = {
    async *[Symbol.asyncIterator]() {
      while (true) {
        if (buffered.length > 0) {
          const batch = buffered;
          buffered = [];
          yield* batch;
          continue;
        }
        if (ended) return;
        await new Promise<void>((resolve) => {
          waiter.wake = resolve;
        });
        waiter.wake = null;
      }
    },
  };

  return {
    get events() {
      listening = true;
      return iterable;
    },
    outcome,
    cancel,
    release,
  };
}
