import { createHash } from "node:crypto";
import { createReadStream as fsCreateReadStream } from "node:fs";
import fs, { type FileHandle } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { PassThrough, Readable, Transform, type TransformCallback, Writable } from "node:stream";
import type { ClientChannel, SFTPWrapper } from "ssh2";
import { onChannelExit } from "./channel-exit.js";
import { archiveCommand, archiveExitOk } from "./archive.js";
import { feedLines } from "./line-feed.js";
import type { ArchiveInput } from "./local-tar.js";
import { restoreStaged } from "./staged-restore.js";
import {
  ArchiveError,
  FileNotFoundError,
  HostFileError,
  HostCommandError,
  NotConnectedError,
  OptioAbortError,
  OptioError,
  OptioTimeoutError,
  UnsafeFileError,
} from "./errors.js";
import type {
  ArchiveOptions,
  FileStat,
  Host,
  HostPath,
  ProcessExit,
  ProcessHandle,
  PtyHandle,
  PtyOptions,
  PutOptions,
  PutResult,
  PutSource,
  RestoreOptions,
  RunOptions,
  RunResult,
  SpawnOptions,
  TailOptions,
  TerminateOptions,
  Tunnel,
  WriteOptions,
} from "./host.js";
import { killTreeScript } from "./kill-tree.js";
import { DEFAULT_TAIL_MAX_LINE_BYTES, LineSplitter } from "./line-splitter.js";
import { remoteTailScript, UNSAFE_TAIL_EXIT } from "./remote-tail.js";
import { remotePty } from "./remote-pty.js";
import { envAssignments, shellQuote } from "./shell.js";
import type { SSHConfigInput } from "./ssh-config.js";
import { SshConnection } from "./ssh-connection.js";
import { resolveTaskDir } from "./task-dir.js";
import { tempSibling } from "./temp-sibling.js";

export interface RemoteHostOptions {
  /** The consumer (agent) name; it names the remote task root. */
  consumer: string;
  processId: string;
  /** How to reach the host. */
  ssh: SSHConfigInput;
  /** Environment (of the worker) used to find the remote task root; defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

const DEFAULT_GRACE_MS = 3000;
/** Grace for trees this host kills on its own (timeouts, aborts, disconnect). */
const INTERNAL_GRACE_MS = 1000;
/** Bound on short housekeeping commands (mkdir, rm, sha256sum, …). */
const INTERNAL_BOUND_MS = 120_000;
const WRITE_CHUNK = 256 * 1024;
/** Lines queued in a tail before the channel is paused (SSH flow control does the rest). */
const TAIL_HIGH_WATER = 50_000;
const PID_MARK = "OPTIO_PID=";
const NOCWD_MARK = "OPTIO_NOCWD";
const MAX_PREAMBLE = 64 * 1024;

const SFTP_NO_SUCH_FILE = 2;
const S_IFMT = 0o170000;

/** The kind of file an SFTP stat's mode describes. */
function fileType(mode: number): FileStat["type"] {
  const format = mode & S_IFMT;
  return format === 0o100000 ? "file" : format === 0o040000 ? "directory" : format === 0o120000 ? "symlink" : "other";
}

function sftpCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

function signalName(signal: string | undefined | null): string | null {
  if (!signal) return null;
  return signal.startsWith("SIG") ? signal : `SIG${signal}`;
}

type Marker = { pid: number } | { noCwd: true };

/**
 * Takes the wrapper's marker line (`OPTIO_PID=<pid>` or `OPTIO_NOCWD`) off the
 * front of a stream and passes the rest through. Lines before it (noise a
 * login shell may print) are dropped.
 */
class MarkerStripper extends Transform {
  private head: Buffer = Buffer.alloc(0);
  private found = false;

  constructor(private readonly onMarker: (marker: Marker | Error) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.found) return callback(null, chunk);
    this.head = this.head.length === 0 ? chunk : Buffer.concat([this.head, chunk]);
    let start = 0;
    let nl = this.head.indexOf(10, start);
    while (nl !== -1) {
      const line = this.head.toString("utf8", start, nl).replace(/\r$/, "");
      start = nl + 1;
      if (line.startsWith(PID_MARK) || line === NOCWD_MARK) {
        this.found = true;
        const rest = this.head.subarray(start);
        this.head = Buffer.alloc(0);
        this.onMarker(line === NOCWD_MARK ? { noCwd: true } : { pid: Number(line.slice(PID_MARK.length)) });
        return callback(null, rest.length > 0 ? rest : undefined);
      }
      nl = this.head.indexOf(10, start);
    }
    this.head = this.head.subarray(start);
    if (this.head.length > MAX_PREAMBLE) {
      this.found = true;
      const rest = this.head;
      this.head = Buffer.alloc(0);
      this.onMarker(new Error("the remote command wrapper printed no pid marker"));
      return callback(null, rest);
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (!this.found) {
      this.found = true;
      this.onMarker(new Error(`the remote command ended before its wrapper started${this.head.length ? `: ${this.head.toString("utf8").trim()}` : ""}`));
    }
    callback();
  }
}

interface RemoteExit extends ProcessExit {
  /** Set when the connection went before the process was seen to exit. */
  lost: Error | null;
}

/** A command running on the host under the pid-reporting wrapper. */
interface RemoteProcess {
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

interface WrapOptions {
  cwd?: string;
  env?: Record<string, string>;
  mergeStderr?: boolean;
}

/**
 * The line sent to the login shell: a POSIX sh that reports its pid (it is
 * the session and group leader sshd made for the channel), then execs the
 * command so the pid stays the command's. Env values are exported in the
 * script, so AcceptEnv on the server does not matter.
 */
function wrapCommand(command: string, options: WrapOptions): string {
  const lines: string[] = [];
  if (options.cwd !== undefined) lines.push(`cd ${shellQuote(options.cwd)} 2>/dev/null || { echo ${NOCWD_MARK} >&2; exit 127; }`);
  lines.push(`echo "${PID_MARK}$$" >&2`);
  for (const assignment of envAssignments(options.env ?? {})) lines.push(`export ${assignment}`);
  if (options.mergeStderr) lines.push("exec 2>&1");
  lines.push(`exec /bin/sh -c ${shellQuote(command)}`);
  return `exec /bin/sh -c ${shellQuote(lines.join("\n"))}`;
}

function bounded<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(onTimeout()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The host at the other end of an SSH connection: exec channels, SFTP, forwards and PTY channels over one ssh2 client. */
export class RemoteHost implements Host {
  readonly kind = "remote" as const;
  readonly taskDir: string;
  readonly workdir: string;
  private readonly sshInput: SSHConfigInput;
  private connection: SshConnection | null = null;
  private connected = false;
  private lifetime = new AbortController();
  private home: string | null = null;
  private readonly procs = new Set<RemoteProcess>();
  private readonly ptys = new Set<PtyHandle>();
  private readonly tunnels = new Set<Tunnel>();
  private readonly closing = new Set<Promise<unknown>>();

  constructor(options: RemoteHostOptions) {
    this.sshInput = options.ssh;
    this.taskDir = resolveTaskDir({ consumer: options.consumer, processId: options.processId, remote: true, env: options.env });
    this.workdir = path.posix.join(this.taskDir, "workdir");
  }

  private get conn(): SshConnection {
    if (!this.connection) throw new NotConnectedError("RemoteHost is not connected: call connect() first");
    return this.connection;
  }

  async connect(): Promise<void> {
    if (!this.connection) {
      // Validated here, not in the constructor: the schema brings zod, which a worker that only runs LocalHost never loads.
      const { parseSshConfig } = await import("./ssh-config.js");
      this.connection = new SshConnection(parseSshConfig(this.sshInput));
    }
    if (!this.connected) {
      await this.conn.connect();
      this.lifetime = new AbortController();
      this.home = null;
      this.connected = true;
    }
    // Over SFTP: an exec would pay for the login shell's startup, often 100 ms or more.
    await this.sftpMkdir(this.taskDir, 0o700);
    await this.sftpMkdir(this.workdir, 0o700);
  }

  async disconnect(): Promise<void> {
    if (!this.connected) {
      await Promise.all([...this.closing]);
      return;
    }
    this.connected = false;
    this.lifetime.abort();
    for (const pty of [...this.ptys]) pty.close();
    for (const tunnel of [...this.tunnels]) this.track(tunnel.close());
    if (this.conn.isReady) {
      for (const proc of [...this.procs]) this.track(this.killTreeNow(proc.pid, INTERNAL_GRACE_MS).catch(() => {}));
    }
    await bounded(Promise.all([...this.closing]), INTERNAL_GRACE_MS + 15_000, () => new OptioTimeoutError("disconnect: cleanup took too long")).catch(() => {});
    await this.conn.end();
  }

  private track(promise: Promise<unknown>): void {
    this.closing.add(promise);
    void promise.finally(() => this.closing.delete(promise));
  }

  private requireConnected(): void {
    if (!this.connected) throw new NotConnectedError("RemoteHost is not connected: call connect() first");
    this.conn.assertReady();
  }

  async resolveHome(): Promise<string> {
    this.requireConnected();
    if (this.home === null) {
      const { stdout } = await this.execChecked('printf %s "$HOME"');
      this.home = stdout.toString("utf8");
    }
    return this.home;
  }

  resolvePath(p: HostPath): string {
    return path.posix.resolve(this.workdir, p);
  }

  // ---- processes -------------------------------------------------------

  /** Starts a wrapped command and waits (bounded) for its pid. */
  private async startProcess(command: string, options: WrapOptions & { pty?: { cols: number; rows: number } }): Promise<RemoteProcess> {
    const wrapped = wrapCommand(command, { ...options, mergeStderr: options.pty ? false : options.mergeStderr });
    const channel = await this.conn.exec(wrapped, options.pty ? { pty: { term: "xterm-256color", cols: options.pty.cols, rows: options.pty.rows, width: 0, height: 0 } } : {});
    channel.on("error", () => {});
    channel.stderr.on("error", () => {});
    let exitCode: number | null = null;
    let exitSignal: string | null = null;
    let exitSeen = false;
    let resolveExited!: (exit: RemoteExit) => void;
    let resolveClosed!: (exit: RemoteExit) => void;
    const exited = new Promise<RemoteExit>((resolve) => (resolveExited = resolve));
    const closed = new Promise<RemoteExit>((resolve) => (resolveClosed = resolve));
    const unregister = this.conn.register((error) => {
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
        Promise.race([marker, closed.then((exit) => Promise.reject(exit.lost ?? new Error(`the remote command ended before reporting its pid (exit ${exit.code ?? exit.signal})`)))]),
        this.conn.config.readyTimeoutMs,
        () => new OptioTimeoutError(`the remote command did not start within ${this.conn.config.readyTimeoutMs} ms`),
      );
      if ("noCwd" in first) throw new FileNotFoundError(`working directory does not exist: ${options.cwd}`);
      const proc: RemoteProcess = { channel, pid: first.pid, stdout, stderr, exited, closed };
      this.procs.add(proc);
      void closed.then(() => this.procs.delete(proc));
      return proc;
    } catch (error) {
      channel.close();
      // The stream ending is how a dropped connection first shows here; name it for what it is.
      throw this.conn.failure ?? error;
    }
  }

  /** Runs a housekeeping command (no wrapper) and collects its output. */
  private async exec(command: string, options: { stdin?: Uint8Array; boundMs?: number } = {}): Promise<{ stdout: Buffer; stderr: string; code: number | null }> {
    const channel = await this.conn.exec(command);
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
    await this.conn.track<void>(
      `running ${command.split("\n")[0]}`,
      (resolve) => {
        channel.on("close", () => resolve());
      },
      boundMs,
    ).catch((error) => {
      channel.close();
      throw error;
    });
    return { stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString("utf8"), code };
  }

  private async execChecked(command: string, options?: { stdin?: Uint8Array; boundMs?: number }): Promise<{ stdout: Buffer; stderr: string }> {
    const result = await this.exec(command, options);
    if (result.code !== 0) throw new HostCommandError(command, result.code, result.stderr);
    return result;
  }

  async runCommand(command: string, options: RunOptions = {}): Promise<RunResult> {
    this.requireConnected();
    const { signal, timeoutMs } = options;
    if (signal?.aborted) throw new OptioAbortError(`aborted before it started: ${command}`, { cause: signal.reason });
    const proc = await this.startProcess(command, { cwd: this.resolvePath(options.cwd ?? this.workdir), env: options.env });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    proc.stdout.on("data", (c: Buffer) => stdout.push(c));
    proc.stderr.on("data", (c: Buffer) => stderr.push(c));
    const stderrDone = new Promise<void>((resolve) => {
      proc.stderr.once("end", resolve);
      proc.stderr.once("close", resolve);
    });
    if (options.stdin !== undefined) proc.channel.end(typeof options.stdin === "string" ? Buffer.from(options.stdin) : options.stdin);
    else proc.channel.end();
    return new Promise<RunResult>((resolve, reject) => {
      let stopped = false;
      let timer: NodeJS.Timeout | undefined;
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const stop = (error: OptioError) => {
        if (stopped) return;
        stopped = true;
        cleanup();
        void this.killTreeNow(proc.pid, INTERNAL_GRACE_MS)
          .catch(() => {})
          .then(() => {
            proc.channel.close();
            reject(error);
          });
      };
      const onAbort = () => stop(new OptioAbortError(`aborted: ${command}`, { cause: signal?.reason }));
      signal?.addEventListener("abort", onAbort, { once: true });
      if (timeoutMs !== undefined) timer = setTimeout(() => stop(new OptioTimeoutError(`timed out after ${timeoutMs} ms: ${command}`)), timeoutMs);
      void proc.closed.then(async (exit) => {
        cleanup();
        if (exit.lost) {
          stopped = true;
          reject(exit.lost);
          return;
        }
        if (stopped) return;
        await bounded(stderrDone, 1000, () => new Error("stderr did not end")).catch(() => {});
        resolve({
          stdout: Buffer.concat(stdout).toString("utf8"),
          stderr: Buffer.concat(stderr).toString("utf8"),
          exitCode: exit.signal ? null : exit.code,
        });
      });
      // An abort while the channel opened came before the listener: it still stops the command.
      if (signal?.aborted) onAbort();
    });
  }

  async runChecked(command: string, options?: RunOptions): Promise<RunResult> {
    const result = await this.runCommand(command, options);
    if (result.exitCode !== 0) throw new HostCommandError(command, result.exitCode, result.stderr);
    return result;
  }

  async spawn(command: string, options: SpawnOptions = {}): Promise<ProcessHandle> {
    this.requireConnected();
    const merge = (options.stderr ?? "merge") === "merge";
    const proc = await this.startProcess(command, { cwd: this.resolvePath(options.cwd ?? this.workdir), env: options.env, mergeStderr: merge });
    const stdout = new PassThrough();
    proc.stdout.pipe(stdout);
    let stderr: Readable;
    if (merge) {
      proc.stderr.resume();
      stderr = Readable.from([]);
    } else {
      stderr = new PassThrough();
      proc.stderr.pipe(stderr as PassThrough);
    }
    let stdin: Writable | null = null;
    if (options.stdin) {
      const channel = proc.channel;
      stdin = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          if (!channel.writable) return callback();
          channel.write(chunk, () => callback());
        },
        final(callback) {
          channel.end();
          callback();
        },
      });
      stdin.on("error", () => {});
    } else {
      proc.channel.end();
    }
    void proc.closed.then((exit) => {
      if (exit.lost) {
        proc.stdout.unpipe(stdout);
        stdout.end();
        if (stderr instanceof PassThrough) {
          proc.stderr.unpipe(stderr);
          stderr.end();
        }
      }
    });
    const exited = proc.exited.then(({ code, signal }) => ({ code: signal ? null : code, signal }));
    return { pid: proc.pid, stdout, stderr, stdin, exited };
  }

  async terminate(handle: ProcessHandle, options: TerminateOptions = {}): Promise<void> {
    await this.killTree(handle.pid, options);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([handle.exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)))]);
    clearTimeout(timer);
  }

  async killTree(pid: number, options: TerminateOptions = {}): Promise<void> {
    this.requireConnected();
    await this.killTreeNow(pid, options.graceMs ?? DEFAULT_GRACE_MS);
  }

  private async killTreeNow(pid: number, graceMs: number): Promise<void> {
    const script = killTreeScript(pid, { graceMs });
    const result = await this.exec(`exec /bin/sh -c ${shellQuote(script)}`, { boundMs: graceMs + 20_000 });
    if (result.code !== 0) throw new OptioTimeoutError(`process tree of ${pid} is still alive: ${result.stderr.trim() || `exit ${result.code}`}`);
  }

  // ---- files -----------------------------------------------------------

  private async sftp(): Promise<SFTPWrapper> {
    return this.conn.sftp();
  }

  /** One SFTP request, failed by a lost connection and bounded. */
  private async sftpCall<T>(what: string, call: (sftp: SFTPWrapper, done: (error: Error | null | undefined, value?: T) => void) => void): Promise<T> {
    const sftp = await this.sftp();
    return this.conn.track<T>(
      what,
      (resolve, reject) => {
        call(sftp, (error, value) => (error ? reject(error) : resolve(value as T)));
      },
      INTERNAL_BOUND_MS,
    );
  }

  private async sftpStat(p: string, follow: boolean): Promise<{ mode: number; size: number; mtime: number } | null> {
    try {
      return await this.sftpCall<{ mode: number; size: number; mtime: number }>(`stat ${p}`, (sftp, done) => (follow ? sftp.stat(p, done) : sftp.lstat(p, done)));
    } catch (error) {
      if (sftpCode(error) === SFTP_NO_SUCH_FILE) return null;
      throw error;
    }
  }

  /**
   * `mkdir -p` in SFTP requests: finds the deepest existing level, creates
   * the rest (with `mode` when given), then sets `mode` on `dir` itself.
   * Another writer creating a level first is fine.
   */
  private async sftpMkdir(dir: string, mode?: number): Promise<void> {
    const missing: string[] = [];
    for (let level = dir; ; level = path.posix.dirname(level)) {
      const st = await this.sftpStat(level, true);
      if (st) {
        if (fileType(st.mode) !== "directory") throw new HostFileError(`cannot make directory ${dir}: ${level} is not a directory`);
        break;
      }
      missing.unshift(level);
      if (path.posix.dirname(level) === level) break;
    }
    for (const level of missing) {
      try {
        await this.sftpCall<void>(`mkdir ${level}`, (s, done) => s.mkdir(level, mode === undefined ? {} : { mode }, done));
      } catch (error) {
        const now = await this.sftpStat(level, true).catch(() => null);
        if (!now || fileType(now.mode) !== "directory") throw new HostFileError(`cannot make directory ${level}`, { cause: error });
      }
    }
    if (mode !== undefined) await this.sftpCall<void>(`chmod ${dir}`, (s, done) => s.chmod(dir, mode, done));
  }

  /** Writes through a temp file in the same directory, renamed over the target. */
  private async atomicWrite(target: string, mode: number | undefined, write: (sftp: SFTPWrapper, handle: Buffer) => Promise<boolean | void>): Promise<boolean> {
    const dir = path.posix.dirname(target);
    let finalMode = mode;
    if (finalMode === undefined) {
      const existing = await this.sftpStat(target, true);
      if (existing && fileType(existing.mode) === "file") finalMode = existing.mode & 0o7777;
    }
    const tmp = tempSibling(target);
    const sftp = await this.sftp();
    const open = () => this.sftpCall<Buffer>(`open ${tmp}`, (s, done) => s.open(tmp, "wx", { mode: finalMode ?? 0o666 }, done));
    let handle: Buffer;
    try {
      handle = await open();
    } catch (error) {
      if (sftpCode(error) !== SFTP_NO_SUCH_FILE) throw error;
      await this.sftpMkdir(dir);
      handle = await open();
    }
    let keep = true;
    try {
      keep = (await write(sftp, handle)) !== false;
      if (keep && finalMode !== undefined) await this.sftpCall<void>(`chmod ${tmp}`, (s, done) => s.fchmod(handle, finalMode, done));
      if (keep) await this.sftpCall<void>(`fsync ${tmp}`, (s, done) => s.ext_openssh_fsync(handle, done)).catch(() => {});
    } catch (error) {
      await this.sftpCall<void>(`close ${tmp}`, (s, done) => s.close(handle, done)).catch(() => {});
      await this.sftpCall<void>(`unlink ${tmp}`, (s, done) => s.unlink(tmp, done)).catch(() => {});
      throw error;
    }
    await this.sftpCall<void>(`close ${tmp}`, (s, done) => s.close(handle, done));
    if (!keep) {
      await this.sftpCall<void>(`unlink ${tmp}`, (s, done) => s.unlink(tmp, done)).catch(() => {});
      return false;
    }
    try {
      await this.sftpCall<void>(`rename ${tmp}`, (s, done) => s.ext_openssh_rename(tmp, target, done));
    } catch (error) {
      await this.sftpCall<void>(`unlink ${tmp}`, (s, done) => s.unlink(tmp, done)).catch(() => {});
      throw error;
    }
    return true;
  }

  private async writeAll(handle: Buffer, chunk: Uint8Array, position: number): Promise<void> {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    await this.sftpCall<void>("write", (s, done) => s.write(handle, buf, 0, buf.length, position, done));
  }

  async writeFile(p: HostPath, data: string | Uint8Array, options: WriteOptions = {}): Promise<void> {
    this.requireConnected();
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    await this.atomicWrite(this.resolvePath(p), options.mode, async (_sftp, handle) => {
      for (let i = 0; i < bytes.byteLength; i += WRITE_CHUNK) await this.writeAll(handle, bytes.subarray(i, i + WRITE_CHUNK), i);
    });
  }

  writeText(p: HostPath, text: string, options?: WriteOptions): Promise<void> {
    return this.writeFile(p, text, options);
  }

  async readFile(p: HostPath): Promise<Buffer> {
    this.requireConnected();
    const chunks: Buffer[] = [];
    for await (const chunk of this.createReadStream(p)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  createReadStream(p: HostPath): Readable {
    this.requireConnected();
    const abs = this.resolvePath(p);
    const out = new PassThrough();
    let unregister = () => {};
    const fail = (error: Error) => {
      unregister();
      out.destroy(sftpCode(error) === SFTP_NO_SUCH_FILE ? new FileNotFoundError(`no such file: ${abs}`, { cause: error }) : error);
    };
    unregister = this.conn.register(fail);
    out.on("close", unregister);
    this.sftp().then(
      (sftp) => {
        if (out.destroyed) return;
        const source = sftp.createReadStream(abs);
        source.on("error", fail);
        source.on("end", unregister);
        out.on("close", () => source.destroy());
        source.pipe(out);
      },
      (error: Error) => fail(error),
    );
    return out;
  }

  private async remoteSha256(abs: string): Promise<string | null> {
    const result = await this.exec(`[ -f ${shellQuote(abs)} ] && exec sha256sum -b -- ${shellQuote(abs)}`);
    if (result.code !== 0) return null;
    const match = /^\\?([0-9a-f]{64})/.exec(result.stdout.toString("utf8"));
    return match?.[1] ?? null;
  }

  async putFile(p: HostPath, source: PutSource, options: PutOptions = {}): Promise<PutResult> {
    this.requireConnected();
    const abs = this.resolvePath(p);
    const { signal, onProgress } = options;
    const checkAbort = () => {
      if (signal?.aborted) throw new OptioAbortError(`upload to ${abs} aborted`, { cause: signal.reason });
    };
    checkAbort();
    let total: number | null = null;
    let knownSha: string | null = null;
    if (source instanceof Uint8Array) {
      total = source.byteLength;
      knownSha = createHash("sha256").update(source).digest("hex");
    } else if ("localPath" in source) {
      total = (await fs.stat(source.localPath)).size;
      if (options.skipIfUnchanged) {
        const hash = createHash("sha256");
        for await (const chunk of fsCreateReadStream(source.localPath)) hash.update(chunk as Buffer);
        knownSha = hash.digest("hex");
      }
    }
    const existingSha = options.skipIfUnchanged ? await this.remoteSha256(abs) : null;
    if (knownSha !== null && existingSha === knownSha) {
      onProgress?.(total ?? 0, total);
      return { skipped: true, bytes: total ?? 0, sha256: knownSha };
    }
    const chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array> =
      source instanceof Uint8Array
        ? (function* () {
            for (let i = 0; i < source.byteLength; i += WRITE_CHUNK) yield source.subarray(i, i + WRITE_CHUNK);
          })()
        : "localPath" in source
          ? fsCreateReadStream(source.localPath, { highWaterMark: WRITE_CHUNK })
          : source;
    const hash = createHash("sha256");
    let sent = 0;
    let sha = "";
    onProgress?.(0, total);
    const written = await this.atomicWrite(abs, options.mode, async (_sftp, handle) => {
      for await (const chunk of chunks) {
        checkAbort();
        hash.update(chunk);
        await this.writeAll(handle, chunk, sent);
        sent += chunk.byteLength;
        onProgress?.(sent, total);
      }
      checkAbort();
      sha = hash.digest("hex");
      return !(options.skipIfUnchanged && existingSha === sha);
    });
    return { skipped: !written, bytes: sent, sha256: sha };
  }

  async remove(p: HostPath): Promise<void> {
    this.requireConnected();
    await this.execChecked(`rm -rf -- ${shellQuote(this.resolvePath(p))}`);
  }

  async mkdir(p: HostPath, options: WriteOptions = {}): Promise<void> {
    this.requireConnected();
    await this.sftpMkdir(this.resolvePath(p), options.mode === undefined ? undefined : options.mode & 0o7777);
  }

  async symlink(target: string, p: HostPath): Promise<void> {
    this.requireConnected();
    const link = this.resolvePath(p);
    const tmp = tempSibling(link);
    await this.sftpMkdir(path.posix.dirname(link));
    // ssh2 puts the arguments in the order OpenSSH's server expects (it has them swapped).
    await this.sftpCall<void>(`symlink ${tmp}`, (s, done) => s.symlink(target, tmp, done));
    try {
      await this.sftpCall<void>(`rename ${tmp}`, (s, done) => s.ext_openssh_rename(tmp, link, done));
    } catch (error) {
      await this.sftpCall<void>(`unlink ${tmp}`, (s, done) => s.unlink(tmp, done)).catch(() => {});
      throw error;
    }
  }

  async stat(p: HostPath): Promise<FileStat | null> {
    this.requireConnected();
    const st = await this.sftpStat(this.resolvePath(p), false);
    if (!st) return null;
    return { type: fileType(st.mode), size: st.size, mode: st.mode & 0o7777, mtimeMs: st.mtime * 1000 };
  }

  async realpath(p: HostPath): Promise<string | null> {
    this.requireConnected();
    const abs = this.resolvePath(p);
    let resolved: string;
    try {
      resolved = await this.sftpCall<string>(`realpath ${abs}`, (s, done) => s.realpath(abs, done));
    } catch (error) {
      if (sftpCode(error) === SFTP_NO_SUCH_FILE) return null;
      throw error;
    }
    // Some servers resolve a path whose last part is missing; like `realpath -e`, only what exists counts.
    return (await this.sftpStat(resolved, true)) ? resolved : null;
  }

  // ---- tails -----------------------------------------------------------

  tailFile(p: HostPath, options: TailOptions = {}): AsyncIterable<string> {
    this.requireConnected();
    const batches = this.tail(this.resolvePath(p), options);
    return (async function* () {
      for await (const batch of batches) yield* batch;
    })();
  }

  tailLines(p: HostPath, options: TailOptions = {}): AsyncIterable<readonly string[]> {
    this.requireConnected();
    return this.tail(this.resolvePath(p), options);
  }

  private async *tail(file: string, options: TailOptions): AsyncGenerator<string[], void, undefined> {
    const signal = options.signal;
    const stop = signal ? AbortSignal.any([signal, this.lifetime.signal]) : this.lifetime.signal;
    if (stop.aborted) return;
    let proc: RemoteProcess;
    try {
      proc = await this.startProcess(remoteTailScript(file), {});
    } catch (error) {
      if (stop.aborted) return;
      throw error;
    }
    proc.channel.end();
    const splitter = new LineSplitter({ maxLineBytes: options.maxLineBytes ?? DEFAULT_TAIL_MAX_LINE_BYTES, onLongLine: options.onLongLine });
    const batches: string[][] = [];
    let queued = 0;
    let paused = false;
    let finished: RemoteExit | null = null;
    let stderrTail = "";
    let wake: (() => void) | null = null;
    const poke = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    proc.stdout.on("data", (chunk: Buffer) => {
      const lines = splitter.push(chunk);
      if (lines.length === 0) return;
      batches.push(lines);
      queued += lines.length;
      if (queued > TAIL_HIGH_WATER && !paused) {
        paused = true;
        proc.stdout.pause();
      }
      poke();
    });
    proc.stderr.on("data", (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString("utf8")).slice(-2000);
    });
    void proc.exited.then((exit) => {
      finished = exit;
      poke();
    });
    stop.addEventListener("abort", poke);
    try {
      for (;;) {
        if (stop.aborted) return;
        const next = batches.shift();
        if (next) {
          queued -= next.length;
          yield next;
          continue;
        }
        if (paused) {
          paused = false;
          proc.stdout.resume();
        }
        if (finished) {
          const exit: RemoteExit = finished;
          if (stop.aborted) return;
          if (exit.lost) throw exit.lost;
          // The reason is on stderr, which can still be on its way when the exit status arrives; the channel closes after it.
          await proc.closed;
          if (exit.code === UNSAFE_TAIL_EXIT) throw new UnsafeFileError(`refusing to tail ${stderrTail.trim() || file}`);
          throw new HostCommandError(`tail ${file}`, exit.code, stderrTail);
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    } finally {
      stop.removeEventListener("abort", poke);
      if (!finished && this.conn.isReady) {
        this.track(
          this.exec(`kill -TERM ${proc.pid} 2>/dev/null; exit 0`, { boundMs: 10_000 })
            .catch(() => {})
            .finally(() => proc.channel.close()),
        );
      } else {
        proc.channel.close();
      }
    }
  }

  // ---- archives --------------------------------------------------------

  archiveWorkdir(options: ArchiveOptions = {}): Readable {
    this.requireConnected();
    const command = archiveCommand({ workdir: this.workdir, exclude: options.exclude, include: options.include });
    const out = new PassThrough();
    void this.startProcess(command, {}).then(
      (proc) => {
        proc.channel.end();
        let stderr = "";
        proc.stderr.on("data", (c: Buffer) => {
          stderr = (stderr + c.toString("utf8")).slice(-4000);
        });
        proc.stdout.pipe(out, { end: false });
        void proc.closed.then((exit) => {
          if (exit.lost) out.destroy(exit.lost);
          else if (!exit.signal && archiveExitOk(exit.code)) out.end();
          else out.destroy(new ArchiveError(`archiving ${this.workdir} failed (exit ${exit.code ?? exit.signal}): ${stderr.trim()}`));
        });
        out.once("close", () => {
          if (!out.writableFinished && this.conn.isReady) {
            this.track(
              this.killTreeNow(proc.pid, 0)
                .catch(() => {})
                .finally(() => proc.channel.close()),
            );
          }
        });
      },
      (error: Error) => out.destroy(OptioError.isInstance(error) ? error : new ArchiveError("could not start tar", { cause: error })),
    );
    return out;
  }

  async restoreWorkdir(archive: Readable, options: RestoreOptions = {}): Promise<void> {
    this.requireConnected();
    await restoreStaged(
      { taskDir: this.taskDir, workdir: this.workdir, run: (command) => this.runCommand(command), runTar: (command, input, onLine, onErrorLine) => this.runTar(command, input, onLine, onErrorLine) },
      { stream: archive },
      options,
    );
  }

  /** RestoreTarget.runTar over the connection: the archive streams into a remote tar's stdin. */
  private async runTar(command: string, input: ArchiveInput, onLine: (line: string) => void, onErrorLine: (line: string) => void): Promise<{ code: number | null }> {
    const source = "stream" in input ? input.stream : "bytes" in input ? Readable.from([input.bytes]) : fsCreateReadStream("", { fd: input.fd, start: 0, autoClose: false });
    let proc: RemoteProcess;
    try {
      proc = await this.startProcess(command, {});
    } catch (error) {
      source.destroy();
      throw error;
    }
    let failure: unknown = null;
    const failed = new Promise<void>((resolve) => {
      const fail = (error: unknown) => {
        failure ??= error;
        resolve();
      };
      feedLines(proc.stdout, onLine, fail);
      feedLines(proc.stderr, onErrorLine, fail);
      source.once("error", (error: Error) => fail(new ArchiveError("reading the archive failed", { cause: error })));
    });
    source.pipe(proc.channel);
    const outcome = await Promise.race([proc.closed, failed]);
    if (failure) {
      source.unpipe(proc.channel);
      source.destroy();
      // Nothing partial gets finished: tar dies before it sees the end of the stream.
      await this.killTreeNow(proc.pid, 0).catch(() => {});
      proc.channel.close();
      throw failure;
    }
    const exit = outcome as RemoteExit;
    if (exit.lost) throw exit.lost;
    return { code: exit.code };
  }

  /** The archive comes over the connection, so it passes through this process on its way into the file. */
  async archiveWorkdirToFile(file: FileHandle, options: ArchiveOptions = {}): Promise<void> {
    const archive = this.archiveWorkdir(options);
    try {
      for await (const chunk of archive) await file.write(chunk as Buffer);
    } finally {
      archive.destroy();
    }
  }

  async restoreWorkdirFromFile(file: FileHandle, options: RestoreOptions = {}): Promise<void> {
    await this.restoreWorkdir(file.createReadStream({ start: 0, autoClose: false }), options);
  }

  async restoreWorkdirFromBytes(archive: Uint8Array, options: RestoreOptions = {}): Promise<void> {
    await this.restoreWorkdir(Readable.from([archive]), options);
  }

  // ---- tunnels and PTYs ------------------------------------------------

  async openTunnel(remotePort: number, options: { bindAddress?: string } = {}): Promise<Tunnel> {
    this.requireConnected();
    if (!Number.isInteger(remotePort) || remotePort < 1 || remotePort > 65535) throw new RangeError(`not a TCP port: ${remotePort}`);
    const target = options.bindAddress ?? "127.0.0.1";
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {});
      socket.pause();
      this.conn.forwardOut(target, remotePort).then(
        (channel) => {
          if (socket.destroyed) {
            channel.close();
            return;
          }
          channel.on("error", () => socket.destroy());
          channel.on("close", () => socket.destroy());
          socket.on("close", () => channel.close());
          socket.pipe(channel).pipe(socket);
          socket.resume();
        },
        () => socket.destroy(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    let closing: Promise<void> | null = null;
    const unregister = this.conn.register(() => void tunnel.close());
    const tunnel: Tunnel = {
      port,
      close: () => {
        closing ??= new Promise<void>((resolve) => {
          unregister();
          this.tunnels.delete(tunnel);
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
        });
        return closing;
      },
    };
    this.tunnels.add(tunnel);
    return tunnel;
  }

  preparePty(): void {
    this.requireConnected();
    this.conn.preparePty();
  }

  async openPty(command: string, options: PtyOptions): Promise<PtyHandle> {
    this.requireConnected();
    const proc = await this.startProcess(command, {
      cwd: this.resolvePath(options.cwd ?? this.workdir),
      env: options.env,
      pty: { cols: options.cols, rows: options.rows },
    });
    const handle = remotePty({
      channel: proc.channel,
      pid: proc.pid,
      output: proc.stdout,
      exit: proc.exited.then(({ code, signal }) => ({ code: signal ? null : code, signal })),
      killTree: (pid) => (this.conn.isReady ? this.killTreeNow(pid, INTERNAL_GRACE_MS) : Promise.resolve()),
      onClosed: (done) => {
        this.ptys.delete(handle);
        this.track(done);
      },
    });
    this.ptys.add(handle);
    return handle;
  }
}

