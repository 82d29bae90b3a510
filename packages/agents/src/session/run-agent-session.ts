import { posix } from "node:path";
import { createHost } from "@optio/host";
import type { AdapterContext, AgentAdapter } from "../spec/agent-adapter.js";
import { parseAgentConfig, type AgentTaskConfig } from "../spec/config.js";
import { createDeliverableQueue } from "../protocol/deliverables.js";
import { PROTOCOL_LOG_FILE } from "../protocol/documentation.js";
import type { TaskContext, TaskOutcome } from "../spec/task-context.js";
import { AGENT_STATE_FILE, type AgentStateChange } from "../spec/agent-state.js";
import { createHookContext } from "./create-hook-context.js";
import type { AgentDriver } from "../spec/hook-context.js";
import type { UsageReport } from "../spec/usage.js";
import { adopt } from "./adopt-agent.js";
import { createAgentStateFollower } from "./follow-agent-state.js";
import { createUsageFollower } from "./follow-usage.js";
import type { SessionState } from "./session-state.js";
import { startAgent } from "./start-agent.js";
import { isReleased, letGo } from "./let-go.js";
import { teardown } from "./teardown.js";
import { readSessionRecord, writeSessionRecord } from "./session-record.js";
import { hasTmuxSession, stopTmuxSession, tmuxSessionFor } from "../terminal/tmux.js";
import { typeFirstMessage } from "./typed-first-message.js";
import { watchAgent } from "./watch-agent.js";

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The task-dir consumer name of an adapter: `optio-<id>`, so task roots
 * (`~/.local/share/optio-claudecode`, `/tmp/optio-opencode`, or
 * `$OPTIO_<ID>_TASK_ROOT`) never land in an agent's own directories.
 */
export function taskConsumer(adapterId: string): string {
  return `optio-${adapterId}`;
}

/** Records how far the log has been followed; a failed write is reported once and the task goes on. */
function lineRecorder<C extends AgentTaskConfig>(
  ctx: TaskContext,
  state: SessionState<C>,
): (logLines: number) => Promise<void> {
  let failed = false;
  return async (logLines) => {
    // Once released, the adopter records how far it got; a late write here would set it back.
    if (isReleased(ctx)) return;
    try {
      await writeSessionRecord(state.host, { fresh: state.fresh, logLines });
    } catch (error) {
      if (failed) return;
      failed = true;
      ctx.report(
        "warn",
        `recording how far optio.log was followed failed (a worker adopting this task may repeat events): ${describe(error)}`,
      );
    }
  };
}

/** Callbacks `runAgentSession` calls beside the events it reports to the task context. */
export interface RunAgentSessionOptions {
  /** Called with a driver once the agent runs in tmux, and with null once it has stopped. */
  onAgentRunning?: (driver: AgentDriver | null) => void;
  /** Called with every change of the agent's state (also reported to the task context as an `agent-state` event). */
  onAgentState?: (change: AgentStateChange) => void;
  /** Called with every model turn the agent recorded and the totals so far (also reported as a `usage` event). */
  onUsage?: (usage: UsageReport) => void;
}

/**
 * Runs one session of `adapter` as a task: validate, connect, restore or
 * plant, serve the terminal and install at once, launch detached in tmux,
 * follow optio.log to an outcome, and tear down (snapshot, seed, hooks, cleanup).
 */
export function runAgentSession<C extends AgentTaskConfig>(
  ctx: TaskContext,
  adapter: AgentAdapter<C>,
  input: unknown,
  options: RunAgentSessionOptions = {},
): Promise<TaskOutcome> {
  return runParsedAgentSession(ctx, adapter, parseAgentConfig(adapter.configSchema, input), options);
}

/** runAgentSession with a config its adapter's schema has already parsed (createAgentTask parses it when the task is made). */
export async function runParsedAgentSession<C extends AgentTaskConfig>(
  ctx: TaskContext,
  adapter: AgentAdapter<C>,
  config: C,
  options: RunAgentSessionOptions = {},
): Promise<TaskOutcome> {
  const host = createHost({ consumer: taskConsumer(adapter.id), processId: ctx.processId, ssh: config.ssh });
  const tmux = tmuxSessionFor(host);
  let state: SessionState<C> | null = null;
  let agentRunning = false;
  const setAgentRunning = (running: boolean) => {
    if (running === agentRunning) return;
    agentRunning = running;
    options.onAgentRunning?.(running && state ? state.hook : null);
  };
  try {
    ctx.reportProgress(null, `Connecting to the ${config.ssh ? `SSH host ${config.ssh.host}` : "local host"}…`);
    await host.connect();
    // The built-in terminal's viewers each open a PTY: the first one's login shell starts with the host's others.
    if (config.terminal.backend === "builtin") host.preparePty();
    ctx.signal.throwIfAborted();
    const hook = createHookContext({
      ctx,
      host,
      agentSession: () => (agentRunning ? tmux : null),
      operationSignal: () => state?.operationSignal ?? ctx.signal,
    });
    const logPath = posix.join(host.workdir, PROTOCOL_LOG_FILE);
    const adapterCtx: AdapterContext = {
      host,
      hook,
      workdir: host.workdir,
      home: posix.join(host.workdir, "home"),
      signal: ctx.signal,
    };
    state = {
      config,
      operationSignal: ctx.signal,
      host,
      hook,
      adapterCtx,
      tmux,
      fresh: true,
      launched: false,
      terminal: null,
      deliverables: createDeliverableQueue({
        host,
        maxBytes: config.maxDeliverableBytes,
        deliver: async (relative, text) => {
          await config.onDeliverable?.(hook, relative, text);
        },
        report: (level, message) => ctx.report(level, message),
      }),
      agentState: createAgentStateFollower({
        ctx,
        host,
        path: posix.join(host.taskDir, AGENT_STATE_FILE),
        source: adapter.agentState,
        displayName: adapter.displayName,
        onChange: options.onAgentState,
      }),
      usage: createUsageFollower({
        ctx,
        host,
        source: adapter.usage,
        where: { workdir: host.workdir, home: adapterCtx.home },
        outcomeLog: logPath,
        onUsage: options.onUsage,
      }),
    };
    const live = await hasTmuxSession(host, tmux);
    const record = live && ctx.resumeRequested ? await readSessionRecord(host) : null;
    let typed: string | undefined;
    if (record) await adopt(ctx, adapter, state, record);
    else {
      if (live) {
        // A worker that crashed left its agent running and no resume was asked for: stop it before its workdir is replaced.
        ctx.report("warn", "an agent from an earlier worker was still running for this task; stopping it");
        await stopTmuxSession(host, tmux);
      }
      ({ typed } = await startAgent(ctx, adapter, state));
    }
    setAgentRunning(true);
    state.agentState.follow({ adopted: record !== null });
    state.usage.follow();
    // Typed alongside the watch: an agent that exits or reports before its prompt shows still decides the outcome.
    const watched = new AbortController();
    const typing =
      typed !== undefined && adapter.promptReady
        ? typeFirstMessage({
            driver: state.hook,
            promptReady: adapter.promptReady,
            text: typed,
            signal: AbortSignal.any([ctx.signal, watched.signal]),
            onMissed: (m) => ctx.report("warn", m),
          }).catch((error: unknown) => ctx.report("warn", `typing the first message failed: ${describe(error)}`))
        : undefined;
    const outcome = await watchAgent({
      ctx,
      host,
      session: tmux,
      mode: adapter.browser,
      logPath,
      deliverables: state.deliverables,
      skipLines: record?.logLines ?? 0,
      onLinesHandled: lineRecorder(ctx, state),
    });
    watched.abort();
    await typing;
    setAgentRunning(false);
    if (isReleased(ctx)) return await letGo(ctx, host, state);
    await state.agentState.exited();
    return await teardown(ctx, adapter, state, outcome);
  } catch (error) {
    setAgentRunning(false);
    if (isReleased(ctx)) return letGo(ctx, host, state);
    if (state?.launched) await state.agentState.exited();
    const outcome: TaskOutcome = ctx.signal.aborted
      ? { status: "cancelled" }
      : { status: "failed", message: describe(error), error };
    if (state) return teardown(ctx, adapter, state, outcome);
    // Stopped before the session looked inside: the task dir connect made is removed, unless a resume was asked
    // for, when it may hold a dead worker's live agent for a later resume to adopt.
    if (!ctx.resumeRequested) await host.remove(host.taskDir).catch(() => undefined);
    await host.disconnect().catch(() => undefined);
    return outcome;
  }
}
