import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { optioErrorClass, shellCommand, shellQuote, type Host } from "@optio/host";

/** tmux is not installed on the host. */
export class TmuxMissingError extends optioErrorClass("tmux_missing", "TmuxMissingError") {}

/** Where a task's agent runs: a private tmux server (its own socket) with one session. */
export interface TmuxSession {
  readonly socket: string;
  readonly name: string;
}

/** Unix socket paths longer than this fail with a misleading "No such file" in tmux. */
const MAX_SOCKET_PATH = 100;

export const TMUX_COLS = 200;
export const TMUX_ROWS = 50;

/** The task's tmux socket: inside the task dir, or a short per-task path under /tmp when that would be too long. */
export function tmuxSessionFor(host: Host): TmuxSession {
  return tmuxSessionAt(host.taskDir);
}

/** The tmux session of the task dir `taskDir` (see tmuxSessionFor). */
export function tmuxSessionAt(taskDir: string): TmuxSession {
  const inTaskDir = `${taskDir}/tmux.sock`;
  if (Buffer.byteLength(inTaskDir) <= MAX_SOCKET_PATH) return { socket: inTaskDir, name: "optio" };
  const digest = createHash("sha256").update(taskDir).digest("hex").slice(0, 20);
  return { socket: `/tmp/optio-tmux/${digest}.sock`, name: "optio" };
}

/** The shell command that runs tmux `args` against the session's own server. */
export function tmuxCommand(session: TmuxSession, ...args: string[]): string {
  return shellCommand(["env", "-u", "TMUX", "tmux", "-S", session.socket, ...args]);
}

/** The error for a host without tmux, naming how to install it. */
export function tmuxMissingError(host: Host): TmuxMissingError {
  return new TmuxMissingError(
    `tmux is not installed on the ${host.kind} host; install it (Debian/Ubuntu: apt-get install tmux, macOS: brew install tmux) and start again`,
  );
}

/**
 * Writes the config a fresh tmux server for `session` reads at start (and
 * makes the socket's dir when it is not the task dir).
 */
export async function writeTmuxConfig(host: Host, session: TmuxSession): Promise<void> {
  const dir = session.socket.slice(0, session.socket.lastIndexOf("/"));
  // The task dir exists (mode 0700) from connect on; over SSH every skipped command is a round trip saved.
  if (dir !== host.taskDir) await host.mkdir(dir, { mode: 0o700 });
  // Options come from a config file read at server start: set afterwards, a fast agent could exit first and take the pane with it.
  await host.writeText(
    `${session.socket}.conf`,
    ["set -g remain-on-exit on", "set -g status off", "set -g history-limit 10000", ""].join("\n"),
    { mode: 0o600 },
  );
}

/**
 * Starts `command` detached in a fresh tmux server whose config
 * writeTmuxConfig wrote. The pane stays after the command exits
 * (remain-on-exit) so its last screen can still be read. A string is run by
 * the user's shell; an argv is executed directly, which skips that shell's
 * startup (over SSH, bash then reads ~/.bashrc).
 */
export async function newTmuxSession(
  host: Host,
  session: TmuxSession,
  command: string | readonly string[],
  cwd: string,
): Promise<void> {
  await host.runChecked(
    tmuxCommand(
      session,
      "-f",
      `${session.socket}.conf`,
      "new-session",
      "-d",
      "-s",
      session.name,
      "-x",
      String(TMUX_COLS),
      "-y",
      String(TMUX_ROWS),
      "-c",
      cwd,
      ...(typeof command === "string" ? [command] : command),
    ),
  );
}

/** writeTmuxConfig, then newTmuxSession. */
export async function startTmuxSession(
  host: Host,
  session: TmuxSession,
  command: string | readonly string[],
  cwd: string,
): Promise<void> {
  await writeTmuxConfig(host, session);
  await newTmuxSession(host, session, command, cwd);
}

export async function hasTmuxSession(host: Host, session: TmuxSession): Promise<boolean> {
  // No socket, no server: a stat (one SFTP request over SSH) answers the usual case without running tmux.
  if ((await host.stat(session.socket)) === null) return false;
  const r = await host.runCommand(tmuxCommand(session, "has-session", "-t", session.name));
  return r.exitCode === 0;
}

export interface PaneState {
  pid: number;
  dead: boolean;
  exitStatus: number | null;
}

export async function paneState(host: Host, session: TmuxSession): Promise<PaneState | null> {
  const r = await host.runCommand(
    tmuxCommand(session, "list-panes", "-t", session.name, "-F", "#{pane_pid} #{pane_dead} #{pane_dead_status}"),
  );
  if (r.exitCode !== 0) return null;
  const [pid, dead, status] = r.stdout.trim().split(/\s+/);
  if (!pid) return null;
  return { pid: Number(pid), dead: dead === "1", exitStatus: status ? Number(status) : null };
}

/** The visible screen as text, trailing blank lines dropped; `scrollback` lines of history above it are included when asked. */
export async function readScreen(
  host: Host,
  session: TmuxSession,
  options: { scrollback?: number } = {},
): Promise<string> {
  const history = options.scrollback ? ["-S", `-${options.scrollback}`] : [];
  const r = await host.runChecked(tmuxCommand(session, "capture-pane", "-p", ...history, "-t", session.name));
  return r.stdout.replace(/\s+$/, "");
}

export interface TmuxSendOptions {
  submit?: boolean;
  /** Wait between the paste and Enter; Claude Code drops an Enter that follows a paste too closely. */
  settleMs?: number;
}

/** Pastes literal text (bracketed when the program asked for it), then optionally Enter. */
export async function sendText(
  host: Host,
  session: TmuxSession,
  text: string,
  options: TmuxSendOptions = {},
): Promise<void> {
  if (text.length > 0) {
    await host.runChecked(tmuxCommand(session, "load-buffer", "-b", "optio-input", "-"), { stdin: text });
    await host.runChecked(tmuxCommand(session, "paste-buffer", "-p", "-d", "-b", "optio-input", "-t", session.name));
  }
  if (options.submit) {
    if (text.length > 0) await sleep(options.settleMs ?? 1000);
    await host.runChecked(tmuxCommand(session, "send-keys", "-t", session.name, "Enter"));
  }
}

/** Presses named keys (tmux key names, e.g. `Enter`, `Up`, `y`) in one tmux call, so they arrive together. */
export async function sendKeys(host: Host, session: TmuxSession, keys: readonly string[]): Promise<void> {
  if (keys.length > 0) await host.runChecked(tmuxCommand(session, "send-keys", "-t", session.name, ...keys));
}

/** How long a viewer waits for the session to start: an install that downloads the agent can take minutes. */
const ATTACH_WAIT_S = 900;

/**
 * The shell command a viewer's PTY runs to join the session. The terminal is
 * served while the host is still being readied, so a page opened early waits
 * here (checking for the socket, then the session, ten times a second) and
 * shows the agent as soon as it starts.
 */
export function attachCommand(session: TmuxSession, options: { readOnly?: boolean } = {}): string {
  const started = `[ -S ${shellQuote(session.socket)} ] && ${tmuxCommand(session, "has-session", "-t", session.name)} 2>/dev/null`;
  const attach = tmuxCommand(session, "attach-session", ...(options.readOnly ? ["-r"] : []), "-t", session.name);
  const script = [
    `if ! { ${started}; }; then printf '%s\\r\\n' 'Waiting for the agent to start…'; fi`,
    "n=0",
    `until ${started}; do n=$((n + 1)); if [ "$n" -gt ${ATTACH_WAIT_S * 10} ]; then echo 'The agent did not start.'; exit 1; fi; sleep 0.1; done`,
    `exec ${attach}`,
  ].join("\n");
  return shellCommand(["/bin/sh", "-c", script]);
}

/**
 * Stops the pane's whole process tree (waiting until it is gone), then the
 * tmux server. `graceMs` is how long the tree gets between SIGTERM and
 * SIGKILL: an agent saving its state for a resume needs it; with 0 nothing is
 * waited for but the processes' end. `pane` is the pane as already looked
 * up (while the session waited for something else), saving a round trip.
 */
export async function stopTmuxSession(
  host: Host,
  session: TmuxSession,
  graceMs = 3000,
  pane: Promise<PaneState | null> = paneState(host, session),
): Promise<void> {
  const found = await pane;
  if (found && !found.dead) await host.killTree(found.pid, { graceMs });
  // One command, not three: over SSH each is a round trip.
  await host.runCommand(
    `${tmuxCommand(session, "kill-server")} 2>/dev/null; rm -f -- ${shellQuote(session.socket)} ${shellQuote(`${session.socket}.conf`)}`,
  );
}
