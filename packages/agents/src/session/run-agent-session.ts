import { posix } from "node:path";
import { DEFAULT_ARCHIVE_EXCLUDES, OptioConfigError, createHost, type Host } from "@optio/host";
import type { AdapterContext, AgentAdapter } from "../spec/agent-adapter.js";
import { parseAgentConfig, type AgentTaskConfig } from "../spec/config.js";
import { composeInstructions } from "../instructions.js";
import { browserShims, type BrowserShims } from "../protocol/browser-shims.js";
import { createDeliverableQueue } from "../protocol/deliverables.js";
import { DELIVERABLES_DIR, PROTOCOL_LOG_FILE } from "../protocol/documentation.js";
import { refreshOnResume } from "../resume/refresh.js";
import { settleAll } from "../settle-all.js";
import { appendResumeLog, RESUME_LOG_FILE, resumeLogLine, rotateOptioLog } from "../resume/resume-log.js";
import { restoreSnapshot } from "../resume/snapshot.js";
import { mergeSeed } from "../seeds/seeds.js";
import type { TaskContext, TaskOutcome } from "../spec/task-context.js";
import { publishAgentTerminal } from "./agent-terminal.js";
import { AGENT_STATE_FILE, AGENT_STATE_FILE_ENV, type AgentStateChange } from "../spec/agent-state.js";
import { createHookContext } from "./create-hook-context.js";
import type { AgentDriver } from "../spec/hook-context.js";
import type { UsageReport } from "../spec/usage.js";
import { createAgentStateFollower } from "./follow-agent-state.js";
import { createUsageFollower } from "./follow-usage.js";
import type { SessionState } from "./session-state.js";
import { teardown } from "./teardown.js";
import { firstMessageFor } from "./kickoff.js";
import { launchAgent, prepareLaunchHost, type LaunchHost } from "./launch.js";
import { readSessionRecord, writeSessionRecord, type SessionRecord } from "./session-record.js";
import { hasTmuxSession, stopTmuxSession, tmuxMissingError, tmuxSessionFor } from "../terminal/tmux.js";
import { typeFirstMessage, typesFirstMessage } from "./typed-first-message.js";
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

function instructionsFor<C extends AgentTaskConfig>(adapter: AgentAdapter<C>, config: C): string {
  return composeInstructions({
    mode: adapter.browser,
    consumerInstructions: config.consumerInstructions,
    resume: config.supportsResume ? { excludes: config.workdirExclude ?? DEFAULT_ARCHIVE_EXCLUDES } : null,
  });
}

/** Restores the latest snapshot when one exists; returns the config to continue with, or null for a fresh start. */
async function resumeFromSnapshot<C extends AgentTaskConfig>(
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
  await restoreSnapshot({
    host,
    store: ctx.store,
    record,
    resume: adapter.resume,
    decrypt: config.sessionBlobDecrypt,
    limits: { maxBytes: config.restoreMaxBytes, maxEntries: config.restoreMaxEntries },
  });
  await rotateOptioLog(host);
  return refreshConfig(ctx, adapter, state);
}

/** Asks `onResumeRefresh` for the config to continue with and rewrites the files derived from it that changed. */
function refreshConfig<C extends AgentTaskConfig>(
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

async function prepareFresh<C extends AgentTaskConfig>(
  ctx: TaskContext,
  adapter: AgentAdapter<C>,
  state: SessionState<C>,
): Promise<void> {
  const { config, host, adapterCtx } = state;
  await adapter.plant(adapterCtx, config);
  if (config.seedId) {
    if (!adapter.seed) throw new OptioConfigError(`config.seedId: ${adapter.displayName} has no seed manifest`);
    ctx.reportProgress(null, "Merging the seed…");
    await mergeSeed({
      host,
      store: ctx.store,
      seedId: config.seedId,
      manifest: adapter.seed,
      decrypt: config.sessionBlobDecrypt,
      adapterContext: adapterCtx,
      agent: adapter.id,
      limits: { maxBytes: config.restoreMaxBytes, maxEntries: config.restoreMaxEntries },
    });
  }
  await settleAll([
    host.writeText(adapter.instructionsFile, instructionsFor(adapter, config)),
    host.writeText(PROTOCOL_LOG_FILE, ""),
  ]);
}

async function writeShims(host: Host, shims: BrowserShims): Promise<void> {
  await settleAll(shims.files.map((file) => host.writeText(file.path, file.content, { mode: file.mode })));
}

async function launch<C extends AgentTaskConfig>(
  ctx: TaskContext,
  adapter: AgentAdapter<C>,
  state: SessionState<C>,
  launchHost: LaunchHost,
  shims: BrowserShims,
  binaryPath: string,
  continueConversation: boolean,
): Promise<{ typed?: string }> {
  const { config, host, adapterCtx } = state;
  if (!launchHost.hasTmux) throw tmuxMissingError(host);
  const logPath = posix.join(host.workdir, PROTOCOL_LOG_FILE);
  const firstMessage = firstMessageFor(config, {
    fresh: state.fresh,
    continueConversation,
    instructionsFile: adapter.instructionsFile,
  });
  const typed = typesFirstMessage(adapter, continueConversation);
  const command = adapter.command(config, {
    workdir: host.workdir,
    home: adapterCtx.home,
    binaryPath,
    continueConversation,
    asRoot: launchHost.asRoot,
    ...(firstMessage !== undefined && !typed && { firstMessage }),
  });
  for (const notice of command.notices ?? []) ctx.report("info", notice);
  const statePath = posix.join(host.taskDir, AGENT_STATE_FILE);
  // Before the session exists: a worker that dies once the agent runs always leaves what an adopter needs.
  // The state file starts empty, so a state from an earlier run of this task is never read as the new agent's.
  await settleAll([writeSessionRecord(host, { fresh: state.fresh, logLines: 0 }), host.writeText(statePath, "")]);
  state.agentState.starting();
  await launchAgent({
    host,
    session: state.tmux,
    scriptPath: posix.join(host.taskDir, "launch.sh"),
    workdir: host.workdir,
    home: adapterCtx.home,
    logPath,
    command,
    configEnv: config.env,
    pathPrepend: shims.pathPrepend,
    extraEnv: { ...shims.env, [AGENT_STATE_FILE_ENV]: statePath },
  });
  state.launched = true;
  // Until the agent's own STATUS lines arrive, say what it is doing rather than that it is starting.
  ctx.reportProgress(
    null,
    firstMessage !== undefined ? `${adapter.displayName} is working…` : `${adapter.displayName} is waiting for input`,
  );
  return typed && firstMessage !== undefined ? { typed: firstMessage } : {};
}

/**
 * Serves the agent's terminal before the agent starts: the page loads while
 * the host is readied, and its viewers wait for the tmux session. A failure
 * is reported, not thrown: the agent runs whether or not anyone can watch it.
 */
async function serveTerminal<C extends AgentTaskConfig>(ctx: TaskContext, state: SessionState<C>): Promise<void> {
  try {
    state.terminal = await publishAgentTerminal(state.hook, state.tmux, state.config.terminal);
    ctx.setWidget({ kind: "iframe", url: state.terminal.url });
  } catch (error) {
    ctx.report("error", `the terminal could not be served: ${describe(error)}`);
  }
}

/**
 * Readies the host (restoring the latest snapshot when a resume is asked
 * for, planting otherwise), serves the terminal and installs at once, and
 * launches the agent.
 */
async function startAgent<C extends AgentTaskConfig>(
  ctx: TaskContext,
  adapter: AgentAdapter<C>,
  state: SessionState<C>,
): Promise<{ typed?: string }> {
  const { host, hook, adapterCtx } = state;
  const installConfig = state.config;
  const resumed =
    ctx.resumeRequested && installConfig.supportsResume ? await resumeFromSnapshot(ctx, adapter, state) : null;
  ctx.signal.throwIfAborted();
  const shimDir = posix.join(host.taskDir, "shims");
  const shims = browserShims(adapter.browser, { shimDir, logPath: posix.join(host.workdir, PROTOCOL_LOG_FILE) });
  // A fresh start empties the workdir and makes the agent's home and the deliverables dir, in the same round trip.
  const launchHost = await prepareLaunchHost(host, {
    remove: resumed ? [] : [host.workdir],
    dirs: [
      ...(resumed ? [] : [adapterCtx.home, host.resolvePath(DELIVERABLES_DIR)]),
      ...(shims.files.length > 0 ? [shimDir] : []),
    ],
  });
  ctx.signal.throwIfAborted();
  ctx.reportProgress(null, `Checking the ${adapter.displayName} installation…`);
  if (resumed) {
    state.fresh = false;
    state.config = resumed.config;
  }
  // Installing touches only the install dir and home/.local/bin, which planting and the rest leave alone:
  // they run at once, as over SSH each of them is a few round trips.
  const [, installed] = await settleAll([
    launchHost.hasTmux ? serveTerminal(ctx, state) : Promise.resolve(),
    adapter.install(adapterCtx, installConfig),
    resumed ? Promise.resolve() : prepareFresh(ctx, adapter, state),
    // A fresh workdir has no resume.log yet: writing it is the append, without a shell command.
    resumed ? appendResumeLog(host, resumed.refreshed) : host.writeText(RESUME_LOG_FILE, `${resumeLogLine([])}\n`),
    writeShims(host, shims),
  ]);
  await adapter.prepare?.(adapterCtx, state.config);
  // An adapter may ask its own binary (opencode lists its sessions), so this waits for the install.
  const continueConversation = resumed ? await adapter.resume.canContinue(adapterCtx) : false;
  await state.config.beforeExecute?.(hook);
  ctx.signal.throwIfAborted();
  ctx.reportProgress(null, `Starting ${adapter.displayName}…`);
  return launch(ctx, adapter, state, launchHost, shims, installed.binaryPath, continueConversation);
}

/**
 * Takes over the agent a dead worker left running: nothing on the host is
 * replaced or restarted; the terminal is served again and the log is
 * followed from where that worker's events ended. `beforeExecute` does not
 * run again (the agent it prepared for is the one adopted); `onResumeRefresh`
 * does, and files it rewrites are named in resume.log, which the agent reads
 * at its next message.
 */
async function adopt<C extends AgentTaskConfig>(
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

/** Records how far the log has been followed; a failed write is reported once and the task goes on. */
function lineRecorder<C extends AgentTaskConfig>(
  ctx: TaskContext,
  state: SessionState<C>,
): (logLines: number) => Promise<void> {
  let failed = false;
  return async (logLines) => {
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
      logPath: posix.join(host.workdir, PROTOCOL_LOG_FILE),
      deliverables: state.deliverables,
      skipLines: record?.logLines ?? 0,
      onLinesHandled: lineRecorder(ctx, state),
    });
    watched.abort();
    await typing;
    setAgentRunning(false);
    await state.agentState.exited();
    return await teardown(ctx, adapter, state, outcome);
  } catch (error) {
    setAgentRunning(false);
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
