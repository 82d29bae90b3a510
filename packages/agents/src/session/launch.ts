import { shellCommand, shellQuote, type Host } from "@optio/host";
import type { AgentCommand } from "../spec/agent-adapter.js";
import { scrubCredentialsScript } from "./credential-env.js";
import { settleAll } from "../settle-all.js";
import { newTmuxSession, writeTmuxConfig, type TmuxSession } from "../terminal/tmux.js";

/** The line the wrapper writes when the agent exits non-zero; the session recognises it to add the screen's last lines. */
export const WRAPPER_EXIT_PATTERN = /^agent exited with code (\d+)$/;

export interface WrapperOptions {
  workdir: string;
  home: string;
  logPath: string;
  command: AgentCommand;
  /** The task config's env: applied last, so it wins, and the only way a credential variable gets through. */
  configEnv: Readonly<Record<string, string>>;
  /** Browser shims and the like: on PATH right after the adapter's own dirs. */
  pathPrepend: readonly string[];
  extraEnv: Readonly<Record<string, string>>;
}

function exportLine(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new TypeError(`not a valid environment variable name: ${JSON.stringify(name)}`);
  return `export ${name}=${shellQuote(value)}`;
}

/**
 * The script tmux runs: a clean environment, the agent, and — because a
 * terminal multiplexer never reports its child's exit — a terminal protocol
 * line appended to optio.log when the agent exits.
 */
export function wrapperScript(options: WrapperOptions): string {
  const { workdir, home, logPath, command } = options;
  const path = [...(command.pathPrepend ?? []), ...options.pathPrepend];
  const env = { ...options.extraEnv, ...command.env, ...options.configEnv };
  const log = shellQuote(logPath);
  return [
    "#!/bin/sh",
    scrubCredentialsScript(),
    exportLine("HOME", home),
    `export PATH=${path.map(shellQuote).join(":")}${path.length > 0 ? ":" : ""}"$PATH"`,
    exportLine("TERM", "xterm-256color"),
    ...Object.entries(env).map(([name, value]) => exportLine(name, value)),
    `cd ${shellQuote(workdir)} || { echo "ERROR: cannot enter the workdir" >> ${log}; exit 1; }`,
    shellCommand(command.argv),
    "optio_rc=$?",
    // A last line without its newline would swallow our terminal line.
    `if [ -s ${log} ] && [ -n "$(tail -c 1 ${log})" ]; then echo >> ${log}; fi`,
    `if [ "$optio_rc" -eq 0 ]; then echo DONE >> ${log}; else echo "ERROR: agent exited with code $optio_rc" >> ${log}; fi`,
    'exit "$optio_rc"',
    "",
  ].join("\n");
}

export interface LaunchOptions extends WrapperOptions {
  host: Host;
  session: TmuxSession;
  /** Where the wrapper script is written (outside the workdir, so it is never snapshotted). */
  scriptPath: string;
}

/** Writes the wrapper and starts it detached in the task's tmux session (the caller has checked that tmux is there). */
export async function launchAgent(options: LaunchOptions): Promise<void> {
  const { host, session, scriptPath } = options;
  // Two writes at once: over SSH each is a round trip.
  await settleAll([
    host.writeText(scriptPath, wrapperScript(options), { mode: 0o700 }),
    writeTmuxConfig(host, session),
  ]);
  await newTmuxSession(host, session, ["/bin/sh", scriptPath], options.workdir);
}

/** What a launch needs to know about the host. */
export interface LaunchHost {
  asRoot: boolean;
  hasTmux: boolean;
}

export interface PrepareLaunchHostOptions {
  /** Removed first (a fresh start's old workdir). */
  remove?: readonly string[];
  /** Made afterwards, every new level mode 0700. */
  dirs?: readonly string[];
}

/**
 * Readies the host for a session in one round trip (over SSH each one is an
 * exec, often with a login shell's whole startup): removes and makes dirs,
 * and reports whether commands run as root and whether tmux is installed.
 * Runs from the task dir, so removing the workdir is fine.
 */
export async function prepareLaunchHost(host: Host, options: PrepareLaunchHostOptions = {}): Promise<LaunchHost> {
  const quoted = (paths: readonly string[]) => paths.map(shellQuote).join(" ");
  const steps: string[] = [];
  if (options.remove && options.remove.length > 0) steps.push(`rm -rf -- ${quoted(options.remove)}`);
  if (options.dirs && options.dirs.length > 0) steps.push(`umask 077`, `mkdir -p -- ${quoted(options.dirs)}`);
  steps.push("id -u", "if command -v tmux >/dev/null 2>&1; then echo tmux; else echo no-tmux; fi");
  const result = await host.runChecked(steps.join(" && "), { cwd: host.taskDir });
  const [uid, tmux] = result.stdout.trim().split(/\s+/);
  return { asRoot: uid === "0", hasTmux: tmux === "tmux" };
}
