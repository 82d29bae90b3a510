import { posix } from "node:path";
import type { Readable } from "node:stream";
import {
  DownloadError,
  HostCommandError,
  PathEscapeError,
  optioErrorClass,
  shellQuote,
  type Host,
  type PutSource,
} from "@optio/host";
import type { TaskContext } from "../spec/task-context.js";
import type { CopySource, HookContext, RunOnHostOptions, SendTextOptions } from "../spec/hook-context.js";
import { checkAgentKeys, type AgentKey } from "../spec/agent-keys.js";
import { createInputQueue } from "./input-queue.js";
import { readScreen, sendKeys, sendText, type TmuxSession } from "../terminal/tmux.js";

/** sendText / sendKeys / readScreen were called while no agent was running. */
export class AgentNotRunningError extends optioErrorClass("agent_not_running", "AgentNotRunningError") {}

export interface HookContextOptions {
  ctx: TaskContext;
  host: Host;
  /** The agent's tmux session once it is launched; null before. */
  agentSession: () => TmuxSession | null;
  /** Bounds host operations: the task's signal while it runs, a fresh one for hooks during teardown (after a cancel). */
  operationSignal: () => AbortSignal;
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${Math.round(n / 1024)} KB`;
}

function toPutSource(source: CopySource, ctx: TaskContext): PutSource | Promise<PutSource> {
  if (typeof source === "string") return { localPath: source };
  if (source instanceof Uint8Array) return source;
  if ("blobId" in source && typeof source.blobId === "string") return ctx.store.getBlob(source.blobId);
  return source as Readable | AsyncIterable<Uint8Array>;
}

/** The HookContext handed to hooks and adapters: the task context plus host helpers that report progress. */
export function createHookContext(options: HookContextOptions): HookContext {
  const { ctx, host } = options;
  const workdir = host.workdir;
  const typing = createInputQueue();

  async function resolveTarget(path: string): Promise<string> {
    if (path === "~" || path.startsWith("~/")) return posix.join(await host.resolveHome(), path.slice(1));
    if (path.startsWith("/")) return posix.normalize(path);
    const resolved = posix.normalize(posix.join(workdir, path));
    if (resolved !== workdir && !resolved.startsWith(`${workdir}/`)) {
      throw new PathEscapeError(`${JSON.stringify(path)} leaves the workdir`);
    }
    return resolved;
  }

  function agentSession(): TmuxSession {
    const session = options.agentSession();
    if (!session) throw new AgentNotRunningError("the agent is not running yet");
    return session;
  }

  async function downloadFile(url: string, target: string, download: { sha256?: string } = {}): Promise<void> {
    if (!/^https?:\/\//.test(url)) throw new DownloadError(`only http(s) downloads are supported: ${url}`);
    const path = await resolveTarget(target);
    const partial = `${path}.partial`;
    await host.mkdir(posix.dirname(path));
    const fetchCommand = `if command -v curl >/dev/null 2>&1; then curl -fsSL -o ${shellQuote(partial)} ${shellQuote(url)}; else wget -q -O ${shellQuote(partial)} ${shellQuote(url)}; fi`;
    const poll = setInterval(() => {
      void host.stat(partial).then(
        (s) => s && ctx.reportProgress(null, `Downloading ${url}: ${formatBytes(s.size)}`),
        () => undefined,
      );
    }, 500);
    try {
      const result = await host.runCommand(fetchCommand, { signal: options.operationSignal() });
      if (result.exitCode !== 0) {
        throw new DownloadError(
          `download of ${url} failed (exit ${result.exitCode}): ${result.stderr.trim().slice(-300)}`,
        );
      }
      if (download.sha256) {
        const sum = await host.runChecked(`sha256sum ${shellQuote(partial)}`);
        const actual = sum.stdout.trim().split(/\s+/)[0];
        if (actual !== download.sha256.toLowerCase()) {
          throw new DownloadError(`checksum mismatch for ${url}: expected ${download.sha256}, got ${actual}`);
        }
      }
      await host.runChecked(`mv -f ${shellQuote(partial)} ${shellQuote(path)}`);
    } catch (error) {
      await host.remove(partial).catch(() => undefined);
      throw error;
    } finally {
      clearInterval(poll);
    }
  }

  return {
    get processId() {
      return ctx.processId;
    },
    get signal() {
      return ctx.signal;
    },
    get resumeRequested() {
      return ctx.resumeRequested;
    },
    get store() {
      return ctx.store;
    },
    reportProgress: (percent, message) => ctx.reportProgress(percent, message),
    setWidget: (widget) => ctx.setWidget(widget),
    requestBrowserOpen: (url) => ctx.requestBrowserOpen(url),
    needAttention: (reason) => ctx.needAttention(reason),
    reportAgentState: (change) => ctx.reportAgentState(change),
    reportUsage: (usage) => ctx.reportUsage(usage),
    domainMessage: (keyword, data) => ctx.domainMessage(keyword, data),
    markHasSavedState: () => ctx.markHasSavedState(),
    report: (level, message) => ctx.report(level, message),
    host,
    workdir,
    resolveTarget,
    async runOnHost(command: string, run: RunOnHostOptions = {}) {
      const cwd = run.cwd === undefined ? undefined : await resolveTarget(run.cwd);
      const result = await host.runCommand(command, {
        cwd,
        env: run.env,
        timeoutMs: run.timeoutMs,
        signal: options.operationSignal(),
      });
      if ((run.check ?? true) && result.exitCode !== 0)
        throw new HostCommandError(command, result.exitCode, result.stderr);
      return result;
    },
    async copyFile(source, target, copy = {}) {
      const path = await resolveTarget(target);
      let last = 0;
      return host.putFile(path, await toPutSource(source, ctx), {
        mode: copy.mode,
        skipIfUnchanged: copy.skipIfUnchanged,
        signal: options.operationSignal(),
        onProgress(sent, total) {
          const now = Date.now();
          if (now - last < 250 && sent !== total) return;
          last = now;
          const pct = total ? Math.round((sent / total) * 100) : null;
          ctx.reportProgress(
            null,
            `Copying ${posix.basename(path)}: ${formatBytes(sent)}${total ? ` of ${formatBytes(total)}` : ""}${pct === null ? "" : ` (${pct}%)`}`,
          );
        },
      });
    },
    async readFromHost(path) {
      return host.readFile(await resolveTarget(path));
    },
    async readTextFromHost(path) {
      return (await host.readFile(await resolveTarget(path))).toString("utf8");
    },
    downloadFile,
    async sendText(text: string, send: SendTextOptions = {}) {
      const session = agentSession();
      await typing(() => sendText(host, session, text, send));
    },
    async sendKeys(keys: readonly AgentKey[]) {
      const checked = checkAgentKeys(keys);
      const session = agentSession();
      await typing(() => sendKeys(host, session, checked));
    },
    async readScreen() {
      return readScreen(host, agentSession());
    },
  };
}
