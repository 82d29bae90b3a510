import { Readable } from "node:stream";
import type { ClientChannel } from "ssh2";
import { bounded } from "./bounded.js";
import { onChannelExit } from "./channel-exit.js";
import { FileNotFoundError, OptioTimeoutError } from "./errors.js";
import type { ProcessExit } from "./host.js";
import { type Marker, MarkerStripper, type WrapOptions, wrapCommand } from "./remote-wrapper.js";
import type { SshConnection } from "./ssh-connection.js";

/** Bound on short housekeeping commands (mkdir, rm, sha256sum, …). */
export const INTERNAL_BOUND_MS = 120_000;

function signalName(signal: string | undefined | null): string | null {
  if (!signal) return null;
  return signal.startsWith("SIG") ? signal : `SIG${signal}`;
}

export interface RemoteExit extends ProcessExit {
  /** Set when the connection went before the process was seen to exit. */
  lost: Error | null;
}

/** A command running on the host under the pid-reporting wrapper. */
export interface RemoteProcess {
  channel: ClientChannel;
  pid: number;
  /** The command's stdout (for a PTY: the terminal's output, marker removed). */
  stdout: Readable;
  /** The command's stderr, marker removed (empty for a PTY). */
  stderr: Readable;
  /** Settles when the process exits, the channel closes or the connection goes. */
  exited: Promise<RemoteExit>;
  /** Settles when the channel has closed (all output read) or the connection goes. */
  closed: Promise<RemoteExit>;
}

export interface StartOptions extends WrapOptions {
  /** Runs the command in a PTY of this size; its stderr then comes out on stdout. */
  pty?: { cols: number; rows: number };
}

export interface ExecCollectOptions {
  stdin?: Uint8Array;
  /** Bound on the whole command; INTERNAL_BOUND_MS by default. */
  boundMs?: number;
}

export interface ExecResult {
  stdout: Buffer;
  stderr: string;
  code: number | null;
}

/** Starts a wrapped command and waits (bounded) for its pid. */
export async function startRemoteProcess(
  conn: SshConnection,
  command: string,
  options: StartOptions,
): Promise<RemoteProcess> {
  const wrapped = wrapCommand(command, { ...options, mergeStderr: options.pty ? false : options.mergeStderr });
  const channel = await conn.exec(
    wrapped,
    options.pty
      ? { pty: { term: "xterm-256color", cols: options.pty.cols, rows: options.pty.rows, width: 0, height: 0 } }
      : {},
  );
  channel.on("error", () => {});
  channel.stderr.on("error", () => {});
  let exitCode: number | null = null;
  let exitSignal: string | null = null;
  let exitSeen = false;
  let resolveExited!: (exit: RemoteExit) => void;
  let resolveClosed!: (exit: RemoteExit) => void;
  const exited = new Promise<RemoteExit>((resolve) => (resolveExited = resolve));
  const closed = new Promise<RemoteExit>((resolve) => (resolveClosed = resolve));
  const unregister = conn.register((error) => {
    const exit = { code: exitCode, signal: exitSignal, lost: exitSeen ? null : error };
    resolveExited(exit);
    resolveClosed(exit);
  });
  onChannelExit(channel, ({ code, signal }) => {
    exitSeen = true;
    exitCode = typeof code === "number" ? code : null;
    exitSignal = signalName(signal);
    resolveExited({ code: exitCode, signal: exitSignal, lost: null });
  });
  channel.on("close", () => {
    unregister();
    const exit = { code: exitCode, signal: exitSignal, lost: null };
    resolveExited(exit);
    resolveClosed(exit);
  });

  let onMarker!: (marker: Marker | Error) => void;
  const marker = new Promise<Marker>((resolve, reject) => {
    onMarker = (m) => (m instanceof Error ? reject(m) : resolve(m));
  });
  marker.catch(() => {});
  const stripper = new MarkerStripper(onMarker);
  let stdout: Readable;
  let stderr: Readable;
  if (options.pty) {
    stdout = channel.pipe(stripper);
    stderr = Readable.from([]);
    channel.stderr.resume();
  } else {
    stdout = channel;
    stderr = channel.stderr.pipe(stripper);
  }
  try {
    const first = await bounded(
      Promise.race([
        marker,
        closed.then((exit) =>
          Promise.reject(
            exit.lost ??
              new Error(`the remote command ended before reporting its pid (exit ${exit.code ?? exit.signal})`),
          ),
        ),
      ]),
      conn.config.readyTimeoutMs,
      () => new OptioTimeoutError(`the remote command did not start within ${conn.config.readyTimeoutMs} ms`),
    );
    if ("noCwd" in first) throw new FileNotFoundError(`working directory does not exist: ${options.cwd}`);
    return { channel, pid: first.pid, stdout, stderr, exited, closed };
  } catch (error) {
    channel.close();
    // The stream ending is how a dropped connection first shows here; name it for what it is.
    throw conn.failure ?? error;
  }
}

/** Runs a housekeeping command (no wrapper) and collects its output. */
export async function execCollect(
  conn: SshConnection,
  command: string,
  options: ExecCollectOptions = {},
): Promise<ExecResult> {
  const channel = await conn.exec(command);
  channel.on("error", () => {});
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  channel.on("data", (c: Buffer) => out.push(c));
  channel.stderr.on("data", (c: Buffer) => err.push(c));
  let code: number | null = null;
  onChannelExit(channel, (exit) => {
    code = typeof exit.code === "number" ? exit.code : null;
  });
  channel.end(options.stdin);
  const boundMs = options.boundMs ?? INTERNAL_BOUND_MS;
  await conn
    .track<void>(
      `running ${command.split("\n")[0]}`,
      (resolve) => {
        channel.on("close", () => resolve());
      },
      boundMs,
    )
    .catch((error) => {
      channel.close();
      throw error;
    });
  return { stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString("utf8"), code };
}
