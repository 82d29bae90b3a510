import { type ChildProcess, execFile, spawn as spawnChild } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { closeSync, constants, createReadStream as fsCreateReadStream, type FSWatcher, openSync, readSync, lstatSync, unlinkSync, watch } from "node:fs";
import fs, { type FileHandle } from "node:fs/promises";
import { type OnReadOpts, Socket, type SocketConstructorOpts } from "node:net";
import os from "node:os";
import path from "node:path";
import { PassThrough, Readable } from "node:stream";
import { archiveCommand, archiveExitOk } from "./archive.js";
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
import { runTar, type SpawnTracked } from "./local-tar.js";
import { openLocalPty } from "./local-pty.js";
import { resolveTaskDir } from "./task-dir.js";
import { tempSibling } from "./temp-sibling.js";
import { type RestoreTarget, restoreStaged } from "./staged-restore.js";

export interface LocalHostOptions {
  /** The consumer (agent) name; it names the task root. */
  consumer: string;
  processId: string;
  /** Environment used to find the task root; defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Home directory used for the default task root; defaults to os.homedir(). */
  home?: string;
}

const DEFAULT_GRACE_MS = 3000;
/** Grace for trees this host kills on its own (timeouts, aborts, disconnect). */
const INTERNAL_GRACE_MS = 1000;
const TAIL_POLL_MS = 250;
const READ_CHUNK = 1024 * 1024;
/** Archive bytes are handed on in pieces this size or smaller; see archiveWorkdir. */
const ARCHIVE_READ_CHUNK = 4 * 1024;

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

function isMissing(error: unknown): boolean {
  const code = errnoCode(error);
  return code === "ENOENT" || code === "ENOTDIR";
}

async function sha256OfFile(file: string): Promise<string | null> {
  const hash = createHash("sha256");
  try {
    for await (const chunk of fsCreateReadStream(file)) hash.update(chunk as Buffer);
  } catch (error) {
    if (isMissing(error) || errnoCode(error) === "EISDIR") return null;
    throw error;
  }
  return hash.digest("hex");
}

/**
 * Hands out batches of lines one line per `next()`. A line already read is
 * handed out without a trip through the generator: an async generator's
 * yield costs several promise turns, which a 100,000-line burst pays per line.
 * Once `stop` is aborted no further line is handed out.
 */
function oneAtATime(batches: AsyncGenerator<string[], void, undefined>, stop: AbortSignal): AsyncIterableIterator<string> {
  let lines: string[] = [];
  let next = 0;
  const refill = async (): Promise<IteratorResult<string, undefined>> => {
    while (next >= lines.length) {
      const batch = await batches.next();
      if (batch.done) return { done: true, value: undefined };
      lines = batch.value;
      next = 0;
    }
    if (stop.aborted) return finish();
    return { done: false, value: lines[next++]! };
  };
  const finish = async (): Promise<IteratorResult<string, undefined>> => {
    lines = [];
    next = 0;
    await batches.return(undefined);
    return { done: true, value: undefined };
  };
  const iterator: AsyncIterableIterator<string> = {
    next() {
      if (next < lines.length && !stop.aborted) return Promise.resolve({ done: false, value: lines[next++]! });
      return refill();
    },
    return: finish,
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/** `mkdir -p`, with a file in the way reported as HostFileError. */
async function makeDir(dir: string, mode?: number): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true, mode });
  } catch (error) {
    const code = errnoCode(error);
    throw new HostFileError(`cannot make directory ${dir}: ${code === "EEXIST" || code === "ENOTDIR" ? "a file is in the way" : String(error)}`, { cause: error });
  }
}

/** The host the worker itself runs on: node fs, child processes in their own groups, node-pty. */
export class LocalHost implements Host {
  readonly kind = "local" as const;
  readonly taskDir: string;
  readonly workdir: string;

  private connected = false;
  private lifetime = new AbortController();
  private readonly children = new Set<ChildProcess>();
  private readonly ptys = new Set<PtyHandle>();
  private readonly closing = new Set<Promise<void>>();
  private readonly tails = new Set<() => void>();

  constructor(options: LocalHostOptions) {
    this.taskDir = resolveTaskDir({ consumer: options.consumer, processId: options.processId, remote: false, env: options.env, home: options.home });
    this.workdir = path.join(this.taskDir, "workdir");
  }

  async connect(): Promise<void> {
    for (const dir of [this.taskDir, this.workdir]) {
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      await fs.chmod(dir, 0o700);
    }
    if (!this.connected) {
      this.lifetime = new AbortController();
      this.connected = true;
    }
  }

  async disconnect(): Promise<void> {
    if (!this.connected) {
      await Promise.all([...this.closing]);
      return;
    }
    this.connected = false;
    this.lifetime.abort();
    for (const close of [...this.tails]) close();
    for (const pty of [...this.ptys]) pty.close();
    const kills = [...this.children].map((child) => (child.pid ? this.killTreeNow(child.pid, INTERNAL_GRACE_MS).catch(() => {}) : Promise.resolve()));
    await Promise.all([...kills, ...this.closing]);
  }

  async resolveHome(): Promise<string> {
    return os.homedir();
  }

  resolvePath(p: HostPath): string {
    return path.resolve(this.workdir, p);
  }

  private requireConnected(): void {
    if (!this.connected) throw new NotConnectedError("LocalHost is not connected: call connect() first");
  }

  private async cwdFor(cwd: HostPath | undefined): Promise<string> {
    const dir = this.resolvePath(cwd ?? this.workdir);
    const st = await fs.stat(dir).catch(() => null);
    if (!st?.isDirectory()) throw new FileNotFoundError(`working directory does not exist: ${dir}`);
    return dir;
  }

  private track(child: ChildProcess): void {
    this.children.add(child);
    child.once("exit", () => this.children.delete(child));
    child.once("error", () => this.children.delete(child));
  }

  async runCommand(command: string, options: RunOptions = {}): Promise<RunResult> {
    this.requireConnected();
    const { signal, timeoutMs } = options;
    if (signal?.aborted) throw new OptioAbortError(`aborted before it started: ${command}`, { cause: signal.reason });
    const cwd = await this.cwdFor(options.cwd);
    const child = spawnChild("/bin/sh", ["-c", command], {
      cwd,
      env: { ...process.env, ...options.env },
      detached: true,
      stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    this.track(child);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout!.on("data", (c: Buffer) => stdout.push(c));
    child.stderr!.on("data", (c: Buffer) => stderr.push(c));
    if (options.stdin !== undefined) {
      child.stdin!.on("error", () => {});
      child.stdin!.end(typeof options.stdin === "string" ? Buffer.from(options.stdin) : options.stdin);
    }
    return new Promise<RunResult>((resolve, reject) => {
      let stopped: OptioError | null = null;
      let timer: NodeJS.Timeout | undefined;
      const stop = (error: OptioError) => {
        if (stopped) return;
        stopped = error;
        cleanup();
        const done = child.pid ? this.killTreeNow(child.pid, INTERNAL_GRACE_MS).catch(() => {}) : Promise.resolve();
        void done.then(() => reject(error));
      };
      const onAbort = () => stop(new OptioAbortError(`aborted: ${command}`, { cause: signal?.reason }));
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => stop(new OptioTimeoutError(`timed out after ${timeoutMs} ms: ${command}`)), timeoutMs);
      }
      child.once("error", (error) => {
        cleanup();
        if (!stopped) reject(error);
      });
      child.once("close", (code, sig) => {
        cleanup();
        if (stopped) return;
        resolve({
          stdout: Buffer.concat(stdout).toString("utf8"),
          stderr: Buffer.concat(stderr).toString("utf8"),
          exitCode: sig ? null : code,
        });
      });
      // An abort while the cwd was looked up came before the listener: it still stops the command.
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
    const cwd = await this.cwdFor(options.cwd);
    const merge = (options.stderr ?? "merge") === "merge";
    // Redirecting inside the shell keeps stdout and stderr in one pipe, in order.
    const child = spawnChild("/bin/sh", ["-c", merge ? `exec 2>&1\n${command}` : command], {
      cwd,
      env: { ...process.env, ...options.env },
      detached: true,
      stdio: [options.stdin ? "pipe" : "ignore", "pipe", "pipe"],
    });
    this.track(child);
    const exited = new Promise<ProcessExit>((resolve) => {
      child.once("exit", (code, signal) => resolve({ code, signal }));
      child.once("error", () => resolve({ code: null, signal: null }));
    });
    if (child.pid === undefined) {
      await exited;
      throw new FileNotFoundError("could not start /bin/sh");
    }
    let stderr: Readable;
    if (merge) {
      // After the shell's own redirect this pipe carries nothing; drain it.
      child.stderr!.resume();
      stderr = Readable.from([]);
    } else {
      stderr = child.stderr!;
    }
    child.stdin?.on("error", () => {});
    return { pid: child.pid, stdout: child.stdout!, stderr, stdin: child.stdin ?? null, exited };
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

  private killTreeNow(pid: number, graceMs: number): Promise<void> {
    const script = killTreeScript(pid, { graceMs });
    return new Promise((resolve, reject) => {
      execFile("/bin/sh", ["-c", script], { timeout: graceMs + 20_000 }, (error, _stdout, stderr) => {
        if (error) reject(new OptioTimeoutError(`process tree of ${pid} is still alive: ${stderr.trim() || error.message}`, { cause: error }));
        else resolve();
      });
    });
  }

  /** Writes through a temp file in the same directory, renamed over the target once synced. */
  private async atomicWrite(target: string, mode: number | undefined, write: (fh: FileHandle) => Promise<boolean | void>): Promise<boolean> {
    const dir = path.dirname(target);
    await fs.mkdir(dir, { recursive: true });
    let finalMode = mode;
    if (finalMode === undefined) {
      const existing = await fs.stat(target).catch(() => null);
      if (existing?.isFile()) finalMode = existing.mode & 0o7777;
    }
    const tmp = tempSibling(target);
    const fh = await fs.open(tmp, "wx", finalMode ?? 0o666);
    let keep = true;
    try {
      keep = (await write(fh)) !== false;
      if (keep) {
        if (finalMode !== undefined) await fh.chmod(finalMode);
        await fh.sync();
      }
    } catch (error) {
      await fh.close().catch(() => {});
      await fs.rm(tmp, { force: true });
      throw error;
    }
    await fh.close();
    if (!keep) {
      await fs.rm(tmp, { force: true });
      return false;
    }
    try {
      await fs.rename(tmp, target);
    } catch (error) {
      await fs.rm(tmp, { force: true });
      throw error;
    }
    return true;
  }

  async writeFile(p: HostPath, data: string | Uint8Array, options: WriteOptions = {}): Promise<void> {
    this.requireConnected();
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    await this.atomicWrite(this.resolvePath(p), options.mode, async (fh) => {
      await fh.writeFile(bytes);
    });
  }

  writeText(p: HostPath, text: string, options?: WriteOptions): Promise<void> {
    return this.writeFile(p, text, options);
  }

  async readFile(p: HostPath): Promise<Buffer> {
    this.requireConnected();
    const abs = this.resolvePath(p);
    try {
      return await fs.readFile(abs);
    } catch (error) {
      if (isMissing(error)) throw new FileNotFoundError(`no such file: ${abs}`, { cause: error });
      throw error;
    }
  }

  createReadStream(p: HostPath): Readable {
    this.requireConnected();
    const abs = this.resolvePath(p);
    const out = new PassThrough();
    const source = fsCreateReadStream(abs);
    source.on("error", (error) => {
      out.destroy(isMissing(error) ? new FileNotFoundError(`no such file: ${abs}`, { cause: error }) : error);
    });
    out.on("close", () => source.destroy());
    source.pipe(out);
    return out;
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
      if (options.skipIfUnchanged) knownSha = await sha256OfFile(source.localPath);
    }
    const existingSha = options.skipIfUnchanged ? await sha256OfFile(abs) : null;
    if (knownSha !== null && existingSha === knownSha) {
      onProgress?.(total ?? 0, total);
      return { skipped: true, bytes: total ?? 0, sha256: knownSha };
    }
    const chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array> =
      source instanceof Uint8Array
        ? (function* () {
            for (let i = 0; i < source.byteLength; i += READ_CHUNK) yield source.subarray(i, i + READ_CHUNK);
          })()
        : "localPath" in source
          ? fsCreateReadStream(source.localPath, { highWaterMark: READ_CHUNK })
          : source;
    const hash = createHash("sha256");
    let sent = 0;
    let sha = "";
    onProgress?.(0, total);
    const written = await this.atomicWrite(abs, options.mode, async (fh) => {
      for await (const chunk of chunks) {
        checkAbort();
        hash.update(chunk);
        await fh.write(chunk);
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
    await fs.rm(this.resolvePath(p), { recursive: true, force: true });
  }

  async mkdir(p: HostPath, options: WriteOptions = {}): Promise<void> {
    this.requireConnected();
    const abs = this.resolvePath(p);
    await makeDir(abs, options.mode);
    if (options.mode !== undefined) await fs.chmod(abs, options.mode);
  }

  async symlink(target: string, p: HostPath): Promise<void> {
    this.requireConnected();
    const link = this.resolvePath(p);
    const tmp = tempSibling(link);
    await makeDir(path.dirname(link));
    await fs.symlink(target, tmp);
    try {
      await fs.rename(tmp, link);
    } catch (error) {
      await fs.rm(tmp, { force: true });
      throw error;
    }
  }

  async stat(p: HostPath): Promise<FileStat | null> {
    this.requireConnected();
    try {
      const st = await fs.lstat(this.resolvePath(p));
      const type = st.isFile() ? "file" : st.isDirectory() ? "directory" : st.isSymbolicLink() ? "symlink" : "other";
      return { type, size: st.size, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async realpath(p: HostPath): Promise<string | null> {
    this.requireConnected();
    try {
      return await fs.realpath(this.resolvePath(p));
    } catch (error) {
      if (isMissing(error) || errnoCode(error) === "ELOOP") return null;
      throw error;
    }
  }

  tailFile(p: HostPath, options: TailOptions = {}): AsyncIterable<string> {
    this.requireConnected();
    const stop = this.tailStop(options);
    return oneAtATime(this.tail(this.resolvePath(p), stop, options), stop);
  }

  tailLines(p: HostPath, options: TailOptions = {}): AsyncIterable<readonly string[]> {
    this.requireConnected();
    return this.tail(this.resolvePath(p), this.tailStop(options), options);
  }

  private tailStop(options: TailOptions): AbortSignal {
    return options.signal ? AbortSignal.any([options.signal, this.lifetime.signal]) : this.lifetime.signal;
  }

  /**
   * Opens the file to tail, or null while it is missing. O_NOFOLLOW refuses a link in its place and
   * O_NONBLOCK keeps a FIFO's open from waiting for a writer; the handle itself must then be a regular file.
   */
  private async openTailed(file: string): Promise<FileHandle | null> {
    let fh: FileHandle;
    try {
      fh = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (error) {
      if (isMissing(error)) return null;
      if (errnoCode(error) === "ELOOP") throw new UnsafeFileError(`refusing to tail ${file}: it is a symbolic link`, { cause: error });
      throw error;
    }
    const st = await fh.stat().catch(async (error: unknown) => {
      await fh.close().catch(() => {});
      throw error;
    });
    if (!st.isFile()) {
      await fh.close().catch(() => {});
      throw new UnsafeFileError(`refusing to tail ${file}: it is not a regular file`);
    }
    return fh;
  }

  /** The file's lines, a read's worth at a time. */
  private async *tail(file: string, stop: AbortSignal, options: TailOptions): AsyncGenerator<string[], void, undefined> {
    const splitter = new LineSplitter({ maxLineBytes: options.maxLineBytes ?? DEFAULT_TAIL_MAX_LINE_BYTES, onLongLine: options.onLongLine });
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    const watchers: FSWatcher[] = [];
    let fh: FileHandle | null = null;
    let ino = -1;
    let pos = 0;
    let dirty = false;
    let wake: (() => void) | null = null;
    const poke = () => {
      dirty = true;
      const w = wake;
      wake = null;
      w?.();
    };
    const watchPath = (target: string) => {
      try {
        const w = watch(target, { persistent: false }, poke);
        w.on("error", () => {});
        watchers.push(w);
      } catch {
        // The poll below covers a path that cannot be watched (yet).
      }
    };
    stop.addEventListener("abort", poke);
    this.tails.add(poke);
    watchPath(path.dirname(file));
    try {
      while (!stop.aborted) {
        dirty = false;
        if (!fh) {
          fh = await this.openTailed(file);
          if (fh) {
            ino = (await fh.stat()).ino;
            pos = 0;
            splitter.reset();
            watchPath(file);
          }
        }
        if (fh) {
          for (;;) {
            // Synchronous reads of a local file take microseconds and skip two thread-pool hops per append.
            const bytesRead = readSync(fh.fd, buf, 0, buf.length, pos);
            if (bytesRead === 0) break;
            pos += bytesRead;
            const lines = splitter.push(buf.subarray(0, bytesRead));
            if (stop.aborted) return;
            if (lines.length > 0) yield lines;
            // A huge file without newlines (a sparse one, say) is read in turns with everything else on the loop.
            else await new Promise<void>((resolve) => setImmediate(resolve));
          }
          // lstat: a link put in the file's place is a replacement, refused when it is opened.
          const now = lstatSync(file, { throwIfNoEntry: false });
          if (!now || now.ino !== ino) {
            // Replaced or removed: the old file is read to its end; follow the new one from line 1.
            await fh.close().catch(() => {});
            fh = null;
            if (now) continue;
          } else if (now.size < pos) {
            pos = 0;
            splitter.reset();
            continue;
          }
        }
        if (dirty || stop.aborted) continue;
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(poke, TAIL_POLL_MS);
        });
        clearTimeout(timer);
      }
    } finally {
      stop.removeEventListener("abort", poke);
      this.tails.delete(poke);
      for (const w of watchers) w.close();
      await fh?.close().catch(() => {});
    }
  }

  archiveWorkdir(options: ArchiveOptions = {}): Readable {
    this.requireConnected();
    const command = archiveCommand({ workdir: this.workdir, exclude: options.exclude, include: options.include });
    let child: ChildProcess | null = null;
    let reader: Socket | null = null;
    const out = new Readable({
      read: () => {
        reader?.resume();
      },
      destroy: (error, callback) => {
        reader?.destroy();
        if (child && child.exitCode === null && child.signalCode === null && child.pid) void this.killTreeNow(child.pid, 0).catch(() => {});
        callback(error);
      },
    });
    const start = async () => {
      const pipe = await this.archivePipe();
      if (out.destroyed) {
        closeSync(pipe.readFd);
        closeSync(pipe.writeFd);
        return;
      }
      let spawned: ChildProcess;
      try {
        spawned = spawnChild("/bin/sh", ["-c", command], { detached: true, stdio: ["ignore", pipe.writeFd, "pipe"] });
      } catch (error) {
        closeSync(pipe.readFd);
        throw error;
      } finally {
        // The child holds its own copy; the stream ends when the last writer closes it.
        closeSync(pipe.writeFd);
      }
      child = spawned;
      this.track(spawned);
      // Each read lands in one reused buffer and is copied out at its exact size: a fresh
      // 64 KB buffer per read left tens of MB of garbage waiting for the next collection.
      // `onread` is a documented constructor option that this @types/node does not list yet.
      const socketOptions: SocketConstructorOpts & { onread: OnReadOpts } = {
        fd: pipe.readFd,
        readable: true,
        writable: false,
        // Returning false (the consumer is full) pauses the socket until `read` resumes it.
        onread: { buffer: Buffer.allocUnsafe(ARCHIVE_READ_CHUNK), callback: (n, buf) => out.push(Buffer.from(buf.subarray(0, n))) },
      };
      const socket = new Socket(socketOptions);
      reader = socket;
      let stderr = "";
      spawned.stderr!.on("data", (c: Buffer) => {
        stderr = (stderr + c.toString("utf8")).slice(-4000);
      });
      // "close" without "end": the consumer destroyed the stream, which is then left as it is.
      const drained = new Promise<void>((resolve, reject) => {
        socket.on("error", reject);
        socket.once("close", () => resolve());
      });
      const exited = new Promise<number | null>((resolve, reject) => {
        spawned.on("error", (error) => reject(new ArchiveError("could not start tar", { cause: error })));
        spawned.once("close", (code) => resolve(code));
      });
      const [code] = await Promise.all([exited, drained]);
      if (out.destroyed) return;
      if (!archiveExitOk(code)) throw new ArchiveError(`archiving ${this.workdir} failed (exit ${code}): ${stderr.trim()}`);
      out.push(null);
    };
    start().catch((error: unknown) => {
      out.destroy(OptioError.isInstance(error) ? error : new ArchiveError(`archiving ${this.workdir} failed`, { cause: error }));
    });
    return out;
  }

  /**
   * Both ends of a fresh pipe: a FIFO made in the task dir, opened and
   * unlinked at once. A child's stdout pipe from spawn() cannot be read into
   * a caller-owned buffer; a socket over this one can.
   */
  private async archivePipe(): Promise<{ readFd: number; writeFd: number }> {
    const fifo = path.join(this.taskDir, `.archive-${randomBytes(6).toString("hex")}.fifo`);
    await new Promise<void>((resolve, reject) => {
      execFile("mkfifo", ["-m", "600", fifo], (error, _stdout, stderr) => {
        if (error) reject(new ArchiveError(`could not make a pipe for the archive: ${stderr.trim() || error.message}`, { cause: error }));
        else resolve();
      });
    });
    try {
      // Non-blocking so the open does not wait for a writer; the writer's open then finds this reader at once.
      const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      try {
        return { readFd, writeFd: openSync(fifo, constants.O_WRONLY) };
      } catch (error) {
        closeSync(readFd);
        throw error;
      }
    } finally {
      // unlinkSync, not rmSync: rmSync lstat()s the FIFO, and Node's realpathSync reads the last
      // lstat() result from a shared buffer, so module resolution would then stop at symlinks.
      try {
        unlinkSync(fifo);
      } catch {
        // Only its name is left behind: the FIFO holds no data and nobody opens it again.
      }
    }
  }

  async archiveWorkdirToFile(file: FileHandle, options: ArchiveOptions = {}): Promise<void> {
    this.requireConnected();
    const command = archiveCommand({ workdir: this.workdir, exclude: options.exclude, include: options.include });
    // tar writes the file itself: the archive's bytes never pass through this process.
    const { code, stderr } = await runTar(this.spawnTracked, command, { stdoutFd: file.fd });
    if (!archiveExitOk(code)) throw new ArchiveError(`archiving ${this.workdir} failed (exit ${code}): ${stderr}`);
  }

  async restoreWorkdirFromFile(file: FileHandle, options: RestoreOptions = {}): Promise<void> {
    this.requireConnected();
    await restoreStaged(this.restoreTarget(), { fd: file.fd }, options);
  }

  async restoreWorkdirFromBytes(archive: Uint8Array, options: RestoreOptions = {}): Promise<void> {
    this.requireConnected();
    await restoreStaged(this.restoreTarget(), { bytes: archive }, options);
  }

  async restoreWorkdir(archive: Readable, options: RestoreOptions = {}): Promise<void> {
    this.requireConnected();
    await restoreStaged(this.restoreTarget(), { stream: archive }, options);
  }

  private restoreTarget(): RestoreTarget {
    return {
      taskDir: this.taskDir,
      workdir: this.workdir,
      run: (command) => this.runCommand(command),
      runTar: (command, input, onLine, onErrorLine) => runTar(this.spawnTracked, command, { input }, onLine, onErrorLine),
    };
  }

  private readonly spawnTracked: SpawnTracked = (command, stdio) => {
    const child = spawnChild("/bin/sh", ["-c", command], { detached: true, stdio });
    this.track(child);
    return child;
  };

  async openTunnel(remotePort: number): Promise<Tunnel> {
    this.requireConnected();
    if (!Number.isInteger(remotePort) || remotePort < 1 || remotePort > 65535) throw new RangeError(`not a TCP port: ${remotePort}`);
    return { port: remotePort, close: async () => {} };
  }

  /** A local PTY starts without a login shell: nothing to ready. */
  preparePty(): void {
    this.requireConnected();
  }

  async openPty(command: string, options: PtyOptions): Promise<PtyHandle> {
    this.requireConnected();
    const cwd = await this.cwdFor(options.cwd);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, ...options.env })) if (v !== undefined) env[k] = v;
    const handle = await openLocalPty(command, {
      cols: options.cols,
      rows: options.rows,
      cwd,
      env,
      killTree: (pid) => this.killTreeNow(pid, INTERNAL_GRACE_MS),
      onClosed: (done) => {
        this.ptys.delete(handle);
        this.closing.add(done);
        void done.finally(() => this.closing.delete(done));
      },
    });
    this.ptys.add(handle);
    return handle;
  }
}
