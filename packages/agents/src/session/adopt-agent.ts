import type { AgentAdapter } from "../spec/agent-adapter.js";
import type { AgentTaskConfig } from "../spec/config.js";
import type { TaskContext } from "../spec/task-context.js";
import { appendResumeLog } from "../resume/resume-log.js";
import { settleAll } from "../settle-all.js";
import { refreshConfig } from "./resume-from-snapshot.js";
import { serveTerminal } from "./serve-terminal.js";
import type { SessionState } from "./session-state.js";
import type { SessionRecord } from "./session-record.js";

/**
 * Takes over the agent a dead worker left running: nothing on the host is
 * replaced or restarted; the terminal is served again and the log is
 * followed from where that worker's events ended. `beforeExecute` does not
 * run again (the agent it prepared for is the one adopted); `onResumeRefresh`
 * does, and files it rewrites are named in resume.log, which the agent reads
 * at its next message.
 */
export async function adopt<C extends AgentTaskConfig>(
  ctx: TaskContext,
  adapter: AgentAdapter<C>,
  state: SessionState<C>,
  record: SessionRecord,
): Promise<void> {
  ctx.report("info", `${adapter.displayName} from an earlier worker is still running for this task; adopting it`);
  state.fresh = record.fresh;
  state.launched = true;
  const [, refresh] = await settleAll([serveTerminal(ctx, state), refreshConfig(ctx, adapter, state)]);
  state.config = refresh.config;
  if (refresh.refreshed.length > 0) await appendResumeLog(state.host, refresh.refreshed);
  ctx.reportProgress(null, `${adapter.displayName} is working… (adopted)`);
}
