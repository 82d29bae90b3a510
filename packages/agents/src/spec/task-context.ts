import type { AgentStateChange } from "./agent-state.js";
import type { StateStore } from "./state-store.js";
import type { UsageReport, UsageTotals } from "./usage.js";

/** What a task shows beside its progress: the agent's web terminal, as an iframe. */
export type Widget = { kind: "iframe"; url: string };

/** How much a `report` event matters. */
export type ReportLevel = "info" | "warn" | "error";

/** What a task engine hands a running task. */
export interface TaskContext {
  readonly processId: string;
  /**
   * Aborted when the task is cancelled, or with a TaskReleasedError as its
   * reason when the engine lets the task go without ending it: then the task
   * stops following its agent but leaves it running and its state as it is,
   * as a worker that died would, for the engine that took it over to adopt.
   */
  readonly signal: AbortSignal;
  /** True when the caller asked to continue the task: adopt its still-running agent, else restore the latest snapshot. */
  readonly resumeRequested: boolean;
  readonly store: StateStore;
  /** percent is 0–100 or null for "no change"; message is free text. */
  reportProgress(percent: number | null, message?: string): void;
  setWidget(widget: Widget | null): void;
  requestBrowserOpen(url: string): void;
  needAttention(reason: string): void;
  /** What the agent is doing now, from its own hooks; a dashboard shows it as a badge. */
  reportAgentState(change: AgentStateChange): void;
  /** A model turn the agent recorded, with the session's totals so far (a resumed session's include the earlier ones). */
  reportUsage(usage: UsageReport): void;
  domainMessage(keyword: string, data: unknown): void;
  markHasSavedState(): void;
  /** Something worth telling the user that is not progress: skipped deliverables, ignored hooks. */
  report(level: ReportLevel, message: string): void;
}

/** How a task ended (done, failed or cancelled), with what its model turns used. */
export type TaskOutcome = (
  | { status: "done"; summary?: string }
  | { status: "failed"; message: string; error?: unknown }
  | { status: "cancelled" }
) & {
  /** What the agent's model turns used, when its adapter reads usage and there was any. */
  usage?: UsageTotals;
};

/** A unit of work any task engine (or `runTask`) can run. */
export interface Task {
  readonly processId: string;
  readonly name: string;
  readonly description?: string;
  run(ctx: TaskContext): Promise<TaskOutcome>;
}

/** What a task reports, in order, ending with its outcome (`runTask`'s `events`). */
export type TaskEvent =
  | { type: "progress"; percent: number | null; message?: string }
  | { type: "widget"; widget: Widget | null }
  | { type: "browser"; url: string }
  | { type: "attention"; reason: string }
  | ({ type: "agent-state" } & AgentStateChange)
  | ({ type: "usage" } & UsageReport)
  | { type: "domain"; keyword: string; data: unknown }
  | { type: "saved-state" }
  | { type: "report"; level: ReportLevel; message: string }
  | { type: "outcome"; outcome: TaskOutcome };
