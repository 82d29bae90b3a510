import type { AgentAdapter } from "../spec/agent-adapter.js";
import type { AgentTaskConfig } from "../spec/config.js";
import type { TaskContext } from "../spec/task-context.js";
import { refreshOnResume } from "../resume/refresh.js";
import { rotateOptioLog } from "../resume/resume-log.js";
import { restoreSnapshot } from "../resume/snapshot.js";
import { instructionsFor } from "./agent-instructions.js";
import { restoreOptions } from "./blob-options.js";
import type { SessionState } from "./session-state.js";

/** Restores the latest snapshot when one exists; returns the config to continue with, or null for a fresh start. */
export async function resumeFromSnapshot<C extends AgentTaskConfig>(
  ctx: TaskContext,
  adapter: AgentAdapter<C>,
  state: SessionState<C>,
): Promise<{ config: C; refreshed: string[] } | null> {
  const record = await ctx.store.latestSnapshot(ctx.processId);
  if (!record) {
    ctx.report("info", "no snapshot to resume from; starting fresh");
    return null;
  }
  const { config, host } = state;
  if (config.seedId || config.onSeedSaved) ctx.report("warn", "seedId and onSeedSaved are ignored when resuming");
  ctx.reportProgress(null, "Restoring the last snapshot…");
  await restoreSnapshot({ ...restoreOptions(ctx, state), record, resume: adapter.resume });
  await rotateOptioLog(host);
  return refreshConfig(ctx, adapter, state);
}

/** Asks `onResumeRefresh` for the config to continue with and rewrites the files derived from it that changed. */
export function refreshConfig<C extends AgentTaskConfig>(
  ctx: TaskContext,
  adapter: AgentAdapter<C>,
  state: SessionState<C>,
): Promise<{ config: C; refreshed: string[] }> {
  return refreshOnResume<C>({
    host: state.host,
    config: state.config,
    onResumeRefresh: state.config.onResumeRefresh as ((c: C) => C | Promise<C>) | undefined,
    render: (next) => [{ path: adapter.instructionsFile, content: instructionsFor(adapter, next) }],
    report: (level, message) => ctx.report(level, message),
  });
}
