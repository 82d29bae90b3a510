import { posix } from "node:path";
import { OptioConfigError, type Host } from "@optio/host";
import type { AgentAdapter } from "../spec/agent-adapter.js";
import type { AgentTaskConfig } from "../spec/config.js";
import type { TaskContext } from "../spec/task-context.js";
import { AGENT_STATE_FILE, AGENT_STATE_FILE_ENV } from "../spec/agent-state.js";
import { browserShims, type BrowserShims } from "../protocol/browser-shims.js";
import { DELIVERABLES_DIR, PROTOCOL_LOG_FILE } from "../protocol/documentation.js";
import { appendResumeLog, RESUME_LOG_FILE, resumeLogLine } from "../resume/resume-log.js";
import { mergeSeed } from "../seeds/seeds.js";
import { settleAll } from "../settle-all.js";
import { tmuxMissingError } from "../terminal/tmux.js";
import { instructionsFor } from "./agent-instructions.js";
import { restoreOptions } from "./blob-options.js";
import { firstMessageFor } from "./kickoff.js";
import { launchAgent, prepareLaunchHost, type LaunchHost } from "./launch.js";
import { resumeFromSnapshot } from "./resume-from-snapshot.js";
import { serveTerminal } from "./serve-terminal.js";
import type { SessionState } from "./session-state.js";
import { writeSessionRecord } from "./session-record.js";
import { typesFirstMessage } from "./typed-first-message.js";

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
      ...restoreOptions(ctx, state),
      seedId: config.seedId,
      manifest: adapter.seed,
      adapterContext: adapterCtx,
      agent: adapter.id,
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
 * Readies the host (restoring the latest snapshot when a resume is asked
 * for, planting otherwise), serves the terminal and installs at once, and
 * launches the agent.
 */
export async function startAgent<C extends AgentTaskConfig>(
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
