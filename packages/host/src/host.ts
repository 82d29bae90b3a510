import type { FileHandle } from "node:fs/promises";
import type { Readable, Writable } from "node:stream";

/**
 * A path on the host: absolute, or relative to the task's workdir.
 * `~` is not expanded here; callers that accept `~` resolve it with
 * `resolveHome()` first.
 */
export type HostPath = string;

export interface RunOptions {
  /** Working directory; defaults to the workdir. */
  cwd?: HostPath;
  /** Variables added to (or overriding) the host's environment. */
  env?: Record<string, string>;
  /** Aborting kills the command's whole process tree and rejects with OptioAbortError. */
  signal?: AbortSignal;
  /** Kills the command's process tree and rejects with OptioTimeoutError after this long. */
  timeoutMs?: number;
  /** Bytes written to the command's stdin, which is then closed. */
  stdin?: string | Uint8Array;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  /** The exit code, or null when a signal ended the command. */
  exitCode: number | null;
}

export interface SpawnOptions {
  cwd?: HostPath;
  env?: Record<string, string>;
  /** Give the process a writable stdin; otherwise it reads EOF at once. */
  stdin?: boolean;
  /** `merge` (the default) sends stderr into `stdout`; `separate` keeps it on `stderr`. */
  stderr?: "merge" | "separate";
}

export interface ProcessExit {
  code: number | null;
  signal: string | null;
}

export interface ProcessHandle {
  /** The pid on the host; it leads its own process group. */
  readonly pid: number;
  readonly stdout: Readable;
  /** Empty when stderr is merged into stdout. */
  readonly stderr: Readable;
  /** Null unless `stdin: true` was asked for; ending it gives the process EOF. */
  readonly stdin: Writable | null;
  /** Settles when the process has exited. Never rejects. */
  readonly exited: Promise<ProcessExit>;
}

export interface TerminateOptions {
  /** Time between SIGTERM and SIGKILL. Default 3000 ms. */
  graceMs?: number;
}

export interface WriteOptions {
  /** File mode, e.g. 0o600. Applied before the file becomes visible. */
  mode?: number;
}

export type PutSource = Uint8Array | { localPath: string } | AsyncIterable<Uint8Array>;

export interface PutOptions extends WriteOptions {
  /** Called with the bytes sent so far and the total when it is known. */
  onProgress?: (sent: number, total: number | null) => void;
  /** Compare sha256 with the existing file and skip the transfer when equal. */
  skipIfUnchanged?: boolean;
  signal?: AbortSignal;
}

export interface PutResult {
  skipped: boolean;
  bytes: number;
  sha256: string;
}

export interface TailOptions {
  signal?: AbortSignal;
  /** Longest line delivered, in bytes; a longer one is cut (never held in memory) and `onLongLine` told. Default DEFAULT_TAIL_MAX_LINE_BYTES. */
  maxLineBytes?: number;
  /** Told once per cut line, with its first bytes. */
  onLongLine?: (head: string) => void;
}

export interface ArchiveOptions {
  /**
   * Patterns left out of the archive, matched against every path segment and
   * against the whole relative path (`*` and `?` wildcards). An explicit list,
   * even an empty one, replaces DEFAULT_ARCHIVE_EXCLUDES.
   */
  exclude?: readonly string[];
  /** Archive only these workdir-relative paths (those that exist). Default: the whole workdir. */
  include?: readonly string[];
}

/** Default RestoreOptions.maxBytes: 16 GiB of file contents. */
export const DEFAULT_RESTORE_MAX_BYTES = 16 * 1024 ** 3;
/** Default RestoreOptions.maxEntries. */
export const DEFAULT_RESTORE_MAX_ENTRIES = 1_000_000;

/** A second archive restored into the same staging tree, checked with it, swapped in with it. */
export interface RestoreOverlay {
  /** The tar.gz, small enough to be held in memory (a snapshot's private part). */
  archive: Uint8Array;
  /** Workdir-relative paths removed from the tree before the overlay is extracted. */
  replaces?: readonly string[];
}

export interface RestoreOptions {
  /** Start from an empty tree rather than from the workdir's contents. Default true. */
  clear?: boolean;
  /** Most bytes each archive may unpack to (DEFAULT_RESTORE_MAX_BYTES), counted on the decompressed stream as it lands; more fails with RestoreLimitError and leaves the workdir as it was. */
  maxBytes?: number;
  /** Most entries each archive may hold (DEFAULT_RESTORE_MAX_ENTRIES); more fails with RestoreLimitError and leaves the workdir as it was. */
  maxEntries?: number;
  /** Extracted over the archive before anything is swapped in. */
  overlay?: RestoreOverlay;
}

export interface Tunnel {
  /** A port on 127.0.0.1 of the worker that reaches the host's port. */
  readonly port: number;
  close(): Promise<void>;
}

export interface PtyOptions {
  cols: number;
  rows: number;
  cwd?: HostPath;
  env?: Record<string, string>;
}

/** A pseudo-terminal running a command on the host. */
export interface PtyHandle {
  onData(listener: (data: string) => void): void;
  onExit(listener: (exit: ProcessExit) => void): void;
  write(data: string): void;
  resize(cols: number, rows: number): void;
  /** Stop reading output (flow control); the program blocks once its buffer fills. */
  pause(): void;
  resume(): void;
  /** Ends the PTY's process. Idempotent. */
  close(): void;
}

export interface FileStat {
  type: "file" | "directory" | "symlink" | "other";
  size: number;
  mode: number;
  /** Last modification, ms since the epoch (whole seconds over SFTP): with the size, tells a replaced file from the one seen before. */
  mtimeMs: number;
}

/** Where the host keeps a task's files, and its connection. */
export interface HostConnection {
  readonly kind: "local" | "remote";
  /** `<root>/<processId>`: stable per (consumer, processId). */
  readonly taskDir: string;
  /** `<taskDir>/workdir`. */
  readonly workdir: string;

  /** Opens the connection (remote) and creates taskDir and workdir with mode 0700. */
  connect(): Promise<void>;
  /** Releases every process, tail, tunnel, PTY and channel this host opened. Idempotent. */
  disconnect(): Promise<void>;

  /** The home directory of the user the host runs commands as. */
  resolveHome(): Promise<string>;
  /** Absolute form of a HostPath (no symlink resolution). */
  resolvePath(path: HostPath): string;
}

/** Commands and process trees. */
export interface HostProcesses {
  runCommand(command: string, options?: RunOptions): Promise<RunResult>;
  /** Like runCommand, but a non-zero exit throws HostCommandError. */
  runChecked(command: string, options?: RunOptions): Promise<RunResult>;
  spawn(command: string, options?: SpawnOptions): Promise<ProcessHandle>;
  /** Ends the handle's whole process tree: SIGTERM, then SIGKILL after the grace. Resolves when all of it is gone. */
  terminate(handle: ProcessHandle, options?: TerminateOptions): Promise<void>;
  /** The same for any process on the host and every descendant of it. */
  killTree(pid: number, options?: TerminateOptions): Promise<void>;
}

/** Files, directories and links, each written atomically, and tails of growing files. */
export interface HostFiles {
  writeFile(path: HostPath, data: string | Uint8Array, options?: WriteOptions): Promise<void>;
  writeText(path: HostPath, text: string, options?: WriteOptions): Promise<void>;
  readFile(path: HostPath): Promise<Buffer>;
  createReadStream(path: HostPath): Readable;
  putFile(path: HostPath, source: PutSource, options?: PutOptions): Promise<PutResult>;
  /** Removes a file or a directory tree. Missing is fine. */
  remove(path: HostPath): Promise<void>;
  /** Makes the directory and any missing parents; `mode` applies to every level it creates and to the directory itself. */
  mkdir(path: HostPath, options?: WriteOptions): Promise<void>;
  /** Makes `path` a symlink to `target` (taken as is), atomically replacing whatever link or file is there; parents are created. */
  symlink(target: string, path: HostPath): Promise<void>;
  /** Null when nothing is there; does not follow a final symlink. */
  stat(path: HostPath): Promise<FileStat | null>;
  /** The canonical path with every symlink resolved, or null when it does not exist. */
  realpath(path: HostPath): Promise<string | null>;

  /**
   * Complete lines from line 1, following appends (and a replacement of the
   * file, from its line 1), until aborted or disconnected. The file must be a
   * regular file at `path` itself: a symbolic link, FIFO or device there ends
   * the tail with UnsafeFileError, and nothing blocks on opening it.
   */
  tailFile(path: HostPath, options?: TailOptions): AsyncIterable<string>;
  /** tailFile's lines in batches: each batch holds the lines that arrived together, in order, never empty. */
  tailLines(path: HostPath, options?: TailOptions): AsyncIterable<readonly string[]>;
}

/** The workdir as a tar.gz, out and back in. */
export interface HostArchives {
  archiveWorkdir(options?: ArchiveOptions): Readable;
  /**
   * Restores a tar.gz into the workdir in one pass through a staging tree
   * beside it, checked on disk (links inside, no special files or hard
   * links) before it is swapped in; any refusal (PathEscapeError,
   * ArchiveError, RestoreLimitError) leaves the workdir as it was.
   */
  restoreWorkdir(archive: Readable, options?: RestoreOptions): Promise<void>;
  /**
   * archiveWorkdir into `file`, an empty file this process has open for
   * writing; resolves once the archive is complete in it. The file stays
   * open. A local host has tar write it directly.
   */
  archiveWorkdirToFile(file: FileHandle, options?: ArchiveOptions): Promise<void>;
  /**
   * restoreWorkdir from the tar.gz in `file`, read from its start; the file
   * stays open. A local host has tar read it directly, and checks every
   * entry before it clears the workdir.
   */
  restoreWorkdirFromFile(file: FileHandle, options?: RestoreOptions): Promise<void>;
  /**
   * restoreWorkdir from a tar.gz already in memory, for small archives such
   * as a snapshot's private part.
   */
  restoreWorkdirFromBytes(archive: Uint8Array, options?: RestoreOptions): Promise<void>;
}

/** Ports and terminals on the host, reached from the worker. */
export interface HostTerminal {
  openTunnel(remotePort: number, options?: { bindAddress?: string }): Promise<Tunnel>;
  openPty(command: string, options: PtyOptions): Promise<PtyHandle>;
  /**
   * Readies what openPty needs before a viewer asks for it: over SSH a PTY
   * channel whose login shell starts now, so a terminal opened later does not
   * wait for the shell's rc files. Nothing to do on a local host.
   */
  preparePty(): void;
}

/**
 * Everything optio does on the machine an agent runs on. LocalHost and
 * RemoteHost behave the same way for every method; the shared contract suite
 * in `@optio/host/testing` holds them to it.
 */
export interface Host extends HostConnection, HostProcesses, HostFiles, HostArchives, HostTerminal {}
