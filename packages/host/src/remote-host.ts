import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { archiveCommand } from "./archive.js";
import { bounded } from "./bounded.js";
import { HostCommandError, NotConnectedError, OptioAbortError, OptioTimeoutError } from "./errors.js";
import type * as contract from "./host.js";
import { HostBase, INTERNAL_GRACE_MS, type WriteChunk } from "./host-base.js";
import { killTreeScript } from "./kill-tree.js";
import {
  type ExecCollectOptions,
  type ExecResult,
  execCollect,
  type RemoteProcess,
  type StartOptions,
  startRemoteProcess,
} from "./remote-process.js";
import { archiveRemotely, type RemoteArchiveHost, runRemoteTar } from "./remote-archive.js";
import { remotePty } from "./remote-pty.js";
import { collectRun, processHandle } from "./remote-run.js";
import { remoteTailScript, tailRemoteFile } from "./remote-tail.js";
import { forwardPort } from "./remote-tunnel.js";
import { fileType, SFTP_NO_SUCH_FILE, SftpFiles, sftpCode } from "./sftp-files.js";
import { shellQuote } from "./shell.js";
import type { SSHConfigInput } from "./ssh-config.js";
import { SshConnection } from "./ssh-connection.js";
import { restoreStaged } from "./staged-restore.js";
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

/** Uploads are written in pieces this size. */
const WRITE_CHUNK = 256 * 1024;

/** The host at the other end of an SSH connection: exec channels, SFTP, forwards and PTY channels over one ssh2 client. */
export class RemoteHost extends HostBase {
  readonly kind = "remote" as const;
  private readonly sshInput: SSHConfigInput;
  private connection: SshConnection | null = null;
  private home: string | null = null;
  private readonly procs = new Set<RemoteProcess>();
  private readonly tunnels = new Set<contract.Tunnel>();
  private readonly files = new SftpFiles(() => this.conn);

  constructor(options: RemoteHostOptions) {
    const taskDir = resolveTaskDir({
      consumer: options.consumer,
      processId: options.processId,
      remote: true,
      env: options.env,
    });
    super(taskDir, path.posix.join(taskDir, "workdir"), "RemoteHost", WRITE_CHUNK);
    this.sshInput = options.ssh;
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
      this.home = null;
      this.begin();
    }
    // Over SFTP: an exec would pay for the login shell's startup, often 100 ms or more.
    await this.files.mkdir(this.taskDir, 0o700);
    await this.files.mkdir(this.workdir, 0o700);
  }

  protected async release(): Promise<void> {
    for (const tunnel of [...this.tunnels]) this.track(tunnel.close());
    if (this.conn.isReady) {
      for (const proc of [...this.procs]) this.track(this.killTreeNow(proc.pid, INTERNAL_GRACE_MS).catch(() => {}));
    }
    await bounded(
      Promise.all([...this.closing]),
      INTERNAL_GRACE_MS + 15_000,
      () => new OptioTimeoutError("disconnect: cleanup took too long"),
    ).catch(() => {});
    await this.conn.end();
  }

  protected override requireConnected(): void {
    super.requireConnected();
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

  resolvePath(p: contract.HostPath): string {
    return path.posix.resolve(this.workdir, p);
  }

  // ---- processes -------------------------------------------------------

  /** Starts a wrapped command and waits (bounded) for its pid; disconnect() ends it if it is still running. */
  private async startProcess(command: string, options: StartOptions): Promise<RemoteProcess> {
    const proc = await startRemoteProcess(this.conn, command, options);
    this.procs.add(proc);
    void proc.closed.then(() => this.procs.delete(proc));
    return proc;
  }

  /** Runs a housekeeping command (no wrapper) and collects its output. */
  private exec(command: string, options?: ExecCollectOptions): Promise<ExecResult> {
    return execCollect(this.conn, command, options);
  }

  private async execChecked(command: string, options?: ExecCollectOptions): Promise<ExecResult> {
    const result = await this.exec(command, options);
    if (result.code !== 0) throw new HostCommandError(command, result.code, result.stderr);
    return result;
  }

  async runCommand(command: string, options: contract.RunOptions = {}): Promise<contract.RunResult> {
    this.requireConnected();
    const { signal } = options;
    if (signal?.aborted) throw new OptioAbortError(`aborted before it started: ${command}`, { cause: signal.reason });
    const proc = await this.startProcess(command, {
      cwd: this.resolvePath(options.cwd ?? this.workdir),
      env: options.env,
    });
    return collectRun(proc, command, options, () => this.killTreeNow(proc.pid, INTERNAL_GRACE_MS));
  }

  async spawn(command: string, options: contract.SpawnOptions = {}): Promise<contract.ProcessHandle> {
    this.requireConnected();
    const merge = (options.stderr ?? "merge") === "merge";
    const proc = await this.startProcess(command, {
      cwd: this.resolvePath(options.cwd ?? this.workdir),
      env: options.env,
      mergeStderr: merge,
    });
    return processHandle(proc, merge, options.stdin === true);
  }

  protected async killTreeNow(pid: number, graceMs: number): Promise<void> {
    const script = killTreeScript(pid, { graceMs });
    const result = await this.exec(`exec /bin/sh -c ${shellQuote(script)}`, { boundMs: graceMs + 20_000 });
    if (result.code !== 0)
      throw new OptioTimeoutError(
        `process tree of ${pid} is still alive: ${result.stderr.trim() || `exit ${result.code}`}`,
      );
  }

  // ---- files -----------------------------------------------------------

  protected atomicWrite(
    target: string,
    mode: number | undefined,
    write: (writeChunk: WriteChunk) => Promise<boolean | void>,
  ): Promise<boolean> {
    return this.files.atomicWrite(target, mode, write);
  }

  async readFile(p: contract.HostPath): Promise<Buffer> {
    this.requireConnected();
    const chunks: Buffer[] = [];
    for await (const chunk of this.createReadStream(p)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  createReadStream(p: contract.HostPath): Readable {
    this.requireConnected();
    return this.files.readStream(this.resolvePath(p));
  }

  protected async sha256Of(abs: string): Promise<string | null> {
    const result = await this.exec(`[ -f ${shellQuote(abs)} ] && exec sha256sum -b -- ${shellQuote(abs)}`);
    if (result.code !== 0) return null;
    const match = /^\\?([0-9a-f]{64})/.exec(result.stdout.toString("utf8"));
    return match?.[1] ?? null;
  }

  async remove(p: contract.HostPath): Promise<void> {
    this.requireConnected();
    await this.execChecked(`rm -rf -- ${shellQuote(this.resolvePath(p))}`);
  }

  async mkdir(p: contract.HostPath, options: contract.WriteOptions = {}): Promise<void> {
    this.requireConnected();
    await this.files.mkdir(this.resolvePath(p), options.mode === undefined ? undefined : options.mode & 0o7777);
  }

  async symlink(target: string, p: contract.HostPath): Promise<void> {
    this.requireConnected();
    const link = this.resolvePath(p);
    const tmp = tempSibling(link);
    await this.files.mkdir(path.posix.dirname(link));
    // ssh2 puts the arguments in the order OpenSSH's server expects (it has them swapped).
    await this.files.call<void>(`symlink ${tmp}`, (s, done) => s.symlink(target, tmp, done));
    try {
      await this.files.call<void>(`rename ${tmp}`, (s, done) => s.ext_openssh_rename(tmp, link, done));
    } catch (error) {
      await this.files.call<void>(`unlink ${tmp}`, (s, done) => s.unlink(tmp, done)).catch(() => {});
      throw error;
    }
  }

  async stat(p: contract.HostPath): Promise<contract.FileStat | null> {
    this.requireConnected();
    const st = await this.files.stat(this.resolvePath(p), false);
    if (!st) return null;
    return { type: fileType(st.mode), size: st.size, mode: st.mode & 0o7777, mtimeMs: st.mtime * 1000 };
  }

  async realpath(p: contract.HostPath): Promise<string | null> {
    this.requireConnected();
    const abs = this.resolvePath(p);
    let resolved: string;
    try {
      resolved = await this.files.call<string>(`realpath ${abs}`, (s, done) => s.realpath(abs, done));
    } catch (error) {
      if (sftpCode(error) === SFTP_NO_SUCH_FILE) return null;
      throw error;
    }
    // Some servers resolve a path whose last part is missing; like `realpath -e`, only what exists counts.
    return (await this.files.stat(resolved, true)) ? resolved : null;
  }

  // ---- tails -----------------------------------------------------------

  protected tail(
    file: string,
    stop: AbortSignal,
    options: contract.TailOptions,
  ): AsyncGenerator<string[], void, undefined> {
    return tailRemoteFile(file, stop, options, {
      start: () => this.startProcess(remoteTailScript(file), {}),
      end: (proc) => {
        if (this.conn.isReady) {
          this.track(
            this.exec(`kill -TERM ${proc.pid} 2>/dev/null; exit 0`, { boundMs: 10_000 })
              .catch(() => {})
              .finally(() => proc.channel.close()),
          );
        } else {
          proc.channel.close();
        }
      },
    });
  }

  // ---- archives --------------------------------------------------------

  archiveWorkdir(options: contract.ArchiveOptions = {}): Readable {
    this.requireConnected();
    const command = archiveCommand({ workdir: this.workdir, exclude: options.exclude, include: options.include });
    return archiveRemotely(this.archiveHost, command);
  }

  /** The archive helpers' view of this host. */
  private readonly archiveHost: RemoteArchiveHost = {
    workdir: () => this.workdir,
    start: (command) => this.startProcess(command, {}),
    killNow: async (proc) => {
      await this.killTreeNow(proc.pid, 0).catch(() => {});
      proc.channel.close();
    },
    abandon: (proc) => {
      if (this.conn.isReady) this.track(this.archiveHost.killNow(proc));
    },
  };

  async restoreWorkdir(archive: Readable, options: contract.RestoreOptions = {}): Promise<void> {
    this.requireConnected();
    await restoreStaged(
      {
        taskDir: this.taskDir,
        workdir: this.workdir,
        run: (command) => this.runCommand(command),
        runTar: (command, input, onLine, onErrorLine) =>
          runRemoteTar(this.archiveHost, command, input, onLine, onErrorLine),
      },
      { stream: archive },
      options,
    );
  }

  /** The archive comes over the connection, so it passes through this process on its way into the file. */
  async archiveWorkdirToFile(file: FileHandle, options: contract.ArchiveOptions = {}): Promise<void> {
    const archive = this.archiveWorkdir(options);
    try {
      for await (const chunk of archive) await file.write(chunk as Buffer);
    } finally {
      archive.destroy();
    }
  }

  async restoreWorkdirFromFile(file: FileHandle, options: contract.RestoreOptions = {}): Promise<void> {
    await this.restoreWorkdir(file.createReadStream({ start: 0, autoClose: false }), options);
  }

  async restoreWorkdirFromBytes(archive: Uint8Array, options: contract.RestoreOptions = {}): Promise<void> {
    await this.restoreWorkdir(Readable.from([archive]), options);
  }

  // ---- tunnels and PTYs ------------------------------------------------

  protected async tunnelTo(remotePort: number, bindAddress: string | undefined): Promise<contract.Tunnel> {
    const tunnel = await forwardPort(this.conn, bindAddress ?? "127.0.0.1", remotePort, () =>
      this.tunnels.delete(tunnel),
    );
    this.tunnels.add(tunnel);
    return tunnel;
  }

  preparePty(): void {
    this.requireConnected();
    this.conn.preparePty();
  }

  async openPty(command: string, options: contract.PtyOptions): Promise<contract.PtyHandle> {
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
