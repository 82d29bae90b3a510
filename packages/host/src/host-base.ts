import { createHash } from "node:crypto";
import { createReadStream as fsCreateReadStream } from "node:fs";
import fs from "node:fs/promises";
import { HostCommandError, NotConnectedError, OptioAbortError } from "./errors.js";
import type {
  ArchiveOptions,
  FileStat,
  Host,
  HostPath,
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
import { oneAtATime } from "./one-at-a-time.js";
import type { FileHandle } from "node:fs/promises";
import type { Readable } from "node:stream";

const DEFAULT_GRACE_MS = 3000;
/** Grace for trees a host kills on its own (timeouts, aborts, disconnect). */
export const INTERNAL_GRACE_MS = 1000;

/** Writes one chunk of a file at `position`. */
export type WriteChunk = (chunk: Uint8Array, position: number) => Promise<void>;

/** The sha256 of a file on the worker, or null when there is none. */
export async function sha256OfLocalFile(file: string): Promise<string | null> {
  const hash = createHash("sha256");
  try {
    for await (const chunk of fsCreateReadStream(file)) hash.update(chunk as Buffer);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | null)?.code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") return null;
    throw error;
  }
  return hash.digest("hex");
}

function* slices(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size);
}

/**
 * What LocalHost and RemoteHost do alike: the connection's lifetime, checked
 * commands, terminating, uploads and tails over the few primitives each one
 * implements its own way.
 */
export abstract class HostBase implements Host {
  abstract readonly kind: "local" | "remote";
  protected connected = false;
  /** Aborted by disconnect(): every tail of this connection ends with it. */
  protected lifetime = new AbortController();
  protected readonly ptys = new Set<PtyHandle>();
  /** Cleanups still running; disconnect() waits for them. */
  protected readonly closing = new Set<Promise<unknown>>();

  constructor(
    readonly taskDir: string,
    readonly workdir: string,
    /** Names the host in a NotConnectedError. */
    private readonly label: string,
    /** Size of the pieces an upload is written in. */
    private readonly chunkBytes: number,
  ) {}

  abstract connect(): Promise<void>;
  abstract resolveHome(): Promise<string>;
  abstract resolvePath(path: HostPath): string;
  abstract runCommand(command: string, options?: RunOptions): Promise<RunResult>;
  abstract spawn(command: string, options?: SpawnOptions): Promise<ProcessHandle>;
  abstract readFile(path: HostPath): Promise<Buffer>;
  abstract createReadStream(path: HostPath): Readable;
  abstract remove(path: HostPath): Promise<void>;
  abstract mkdir(path: HostPath, options?: WriteOptions): Promise<void>;
  abstract symlink(target: string, path: HostPath): Promise<void>;
  abstract stat(path: HostPath): Promise<FileStat | null>;
  abstract realpath(path: HostPath): Promise<string | null>;
  abstract archiveWorkdir(options?: ArchiveOptions): Readable;
  abstract restoreWorkdir(archive: Readable, options?: RestoreOptions): Promise<void>;
  abstract archiveWorkdirToFile(file: FileHandle, options?: ArchiveOptions): Promise<void>;
  abstract restoreWorkdirFromFile(file: FileHandle, options?: RestoreOptions): Promise<void>;
  abstract restoreWorkdirFromBytes(archive: Uint8Array, options?: RestoreOptions): Promise<void>;
  abstract openPty(command: string, options: PtyOptions): Promise<PtyHandle>;
  abstract preparePty(): void;

  /** Ends `pid` and its descendants, SIGKILL after `graceMs`; rejects when some of the tree is still alive. */
  protected abstract killTreeNow(pid: number, graceMs: number): Promise<void>;
  /** Releases what this connection holds besides its PTYs; disconnect() has already aborted the lifetime. */
  protected abstract release(): Promise<void>;
  /**
   * Writes `target` through a temp file in its directory, renamed over it once
   * written; `mode` or else the existing file's mode applies. When `write`
   * returns false the temp file is dropped and the result is false.
   */
  protected abstract atomicWrite(
    target: string,
    mode: number | undefined,
    write: (writeChunk: WriteChunk) => Promise<boolean | void>,
  ): Promise<boolean>;
  /** The sha256 of the regular file at an absolute path on the host, or null. */
  protected abstract sha256Of(path: string): Promise<string | null>;
  /** The file's lines, a read's worth at a time, until `stop`. */
  protected abstract tail(
    file: string,
    stop: AbortSignal,
    options: TailOptions,
  ): AsyncGenerator<string[], void, undefined>;
  /** A tunnel to a port already checked to be one. */
  protected abstract tunnelTo(remotePort: number, bindAddress: string | undefined): Promise<Tunnel>;

  protected requireConnected(): void {
    if (!this.connected) throw new NotConnectedError(`${this.label} is not connected: call connect() first`);
  }

  /** Marks the host connected, with a fresh lifetime. */
  protected begin(): void {
    if (this.connected) return;
    this.lifetime = new AbortController();
    this.connected = true;
  }

  protected track(promise: Promise<unknown>): void {
    this.closing.add(promise);
    void promise.finally(() => this.closing.delete(promise));
  }

  async disconnect(): Promise<void> {
    if (!this.connected) {
      await Promise.all([...this.closing]);
      return;
    }
    this.connected = false;
    this.lifetime.abort();
    for (const pty of [...this.ptys]) pty.close();
    await this.release();
  }

  async runChecked(command: string, options?: RunOptions): Promise<RunResult> {
    const result = await this.runCommand(command, options);
    if (result.exitCode !== 0) throw new HostCommandError(command, result.exitCode, result.stderr);
    return result;
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

  async writeFile(p: HostPath, data: string | Uint8Array, options: WriteOptions = {}): Promise<void> {
    this.requireConnected();
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    await this.atomicWrite(this.resolvePath(p), options.mode, async (writeChunk) => {
      for (let i = 0; i < bytes.byteLength; i += this.chunkBytes)
        await writeChunk(bytes.subarray(i, i + this.chunkBytes), i);
    });
  }

  writeText(p: HostPath, text: string, options?: WriteOptions): Promise<void> {
    return this.writeFile(p, text, options);
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
      if (options.skipIfUnchanged) knownSha = await sha256OfLocalFile(source.localPath);
    }
    const existingSha = options.skipIfUnchanged ? await this.sha256Of(abs) : null;
    if (knownSha !== null && existingSha === knownSha) {
      onProgress?.(total ?? 0, total);
      return { skipped: true, bytes: total ?? 0, sha256: knownSha };
    }
    const chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array> =
      source instanceof Uint8Array
        ? slices(source, this.chunkBytes)
        : "localPath" in source
          ? fsCreateReadStream(source.localPath, { highWaterMark: this.chunkBytes })
          : source;
    const hash = createHash("sha256");
    let sent = 0;
    let sha = "";
    onProgress?.(0, total);
    const written = await this.atomicWrite(abs, options.mode, async (writeChunk) => {
      for await (const chunk of chunks) {
        checkAbort();
        hash.update(chunk);
        await writeChunk(chunk, sent);
        sent += chunk.byteLength;
        onProgress?.(sent, total);
      }
      checkAbort();
      sha = hash.digest("hex");
      return !(options.skipIfUnchanged && existingSha === sha);
    });
    return { skipped: !written, bytes: sent, sha256: sha };
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

  async openTunnel(remotePort: number, options: { bindAddress?: string } = {}): Promise<Tunnel> {
    this.requireConnected();
    if (!Number.isInteger(remotePort) || remotePort < 1 || remotePort > 65535)
      throw new RangeError(`not a TCP port: ${remotePort}`);
    return this.tunnelTo(remotePort, options.bindAddress);
  }
}
