import { type ChildProcess, execFile, spawn as spawnChild } from "node:child_process";
import { createReadStream as fsCreateReadStream } from "node:fs";
import fs, { type FileHandle } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough, Readable } from "node:stream";
import { archiveCommand, archiveExitOk } from "./archive.js";
import { ArchiveError, FileNotFoundError, OptioAbortError, type OptioError, OptioTimeoutError } from "./errors.js";
import type * as contract from "./host.js";
import { HostBase, INTERNAL_GRACE_MS, sha256OfLocalFile, type WriteChunk } from "./host-base.js";
import { killTreeScript } from "./kill-tree.js";
import { archiveLocally } from "./local-archive.js";
import { atomicWriteLocal, errnoCode, isMissing, makeDir } from "./local-files.js";
import { openLocalPty } from "./local-pty.js";
import { tailLocalFile } from "./local-tail.js";
import { runTar, type SpawnTracked } from "./local-tar.js";
import { type RestoreTarget, restoreStaged } from "./staged-restore.js";
import { resolveTaskDir } from "./task-dir.js";
import { tempSibling } from "./temp-sibling.js";

export interface LocalHostOptions {
  /** The consumer (agent) name; it names the task root. */
  consumer: string;
  processId: string;
  /** Environment used to find the task root; defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Home directory used for the default task root; defaults to os.homedir(). */
  home?: string;
}

/** Uploads are written in pieces this size. */
const WRITE_CHUNK = 1024 * 1024;

/** The host the worker itself runs on: node fs, child processes in their own groups, node-pty. */
export class LocalHost extends HostBase {
  readonly kind = "local" as const;
  private readonly children = new Set<ChildProcess>();
  private readonly tails = new Set<() => void>();

  constructor(options: LocalHostOptions) {
    const taskDir = resolveTaskDir({
      consumer: options.consumer,
      processId: options.processId,
      remote: false,
      env: options.env,
      home: options.home,
    });
    super(taskDir, path.join(taskDir, "workdir"), "LocalHost", WRITE_CHUNK);
  }

  async connect(): Promise<void> {
    for (const dir of [this.taskDir, this.workdir]) {
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      await fs.chmod(dir, 0o700);
    }
    this.begin();
  }

  protected async release(): Promise<void> {
    for (const close of [...this.tails]) close();
    const kills = [...this.children].map((child) =>
      child.pid ? this.killTreeNow(child.pid, INTERNAL_GRACE_MS).catch(() => {}) : Promise.resolve(),
    );
    await Promise.all([...kills, ...this.closing]);
  }

  async resolveHome(): Promise<string> {
    return os.homedir();
  }

  resolvePath(p: contract.HostPath): string {
    return path.resolve(this.workdir, p);
  }

  private async cwdFor(cwd: contract.HostPath | undefined): Promise<string> {
    const dir = this.resolvePath(cwd ?? this.workdir);
    const st = await fs.stat(dir).catch(() => null);
    if (!st?.isDirectory()) throw new FileNotFoundError(`working directory does not exist: ${dir}`);
    return dir;
  }

  private trackChild(child: ChildProcess): void {
    this.children.add(child);
    child.once("exit", () => this.children.delete(child));
    child.once("error", () => this.children.delete(child));
  }

  async runCommand(command: string, options: contract.RunOptions = {}): Promise<contract.RunResult> {
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
    this.trackChild(child);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout!.on("data", (c: Buffer) => stdout.push(c));
    child.stderr!.on("data", (c: Buffer) => stderr.push(c));
    if (options.stdin !== undefined) {
      child.stdin!.on("error", () => {});
      child.stdin!.end(typeof options.stdin === "string" ? Buffer.from(options.stdin) : options.stdin);
    }
    return new Promise<contract.RunResult>((resolve, reject) => {
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

  async spawn(command: string, options: contract.SpawnOptions = {}): Promise<contract.ProcessHandle> {
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
    this.trackChild(child);
    const exited = new Promise<contract.ProcessExit>((resolve) => {
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

  protected killTreeNow(pid: number, graceMs: number): Promise<void> {
    const script = killTreeScript(pid, { graceMs });
    return new Promise((resolve, reject) => {
      execFile("/bin/sh", ["-c", script], { timeout: graceMs + 20_000 }, (error, _stdout, stderr) => {
        if (error)
          reject(
            new OptioTimeoutError(`process tree of ${pid} is still alive: ${stderr.trim() || error.message}`, {
              cause: error,
            }),
          );
        else resolve();
      });
    });
  }

  protected atomicWrite(
    target: string,
    mode: number | undefined,
    write: (writeChunk: WriteChunk) => Promise<boolean | void>,
  ): Promise<boolean> {
    return atomicWriteLocal(target, mode, (fh) =>
      write(async (chunk) => {
        await fh.write(chunk);
      }),
    );
  }

  protected sha256Of(file: string): Promise<string | null> {
    return sha256OfLocalFile(file);
  }

  async readFile(p: contract.HostPath): Promise<Buffer> {
    this.requireConnected();
    const abs = this.resolvePath(p);
    try {
      return await fs.readFile(abs);
    } catch (error) {
      if (isMissing(error)) throw new FileNotFoundError(`no such file: ${abs}`, { cause: error });
      throw error;
    }
  }

  createReadStream(p: contract.HostPath): Readable {
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

  async remove(p: contract.HostPath): Promise<void> {
    this.requireConnected();
    await fs.rm(this.resolvePath(p), { recursive: true, force: true });
  }

  async mkdir(p: contract.HostPath, options: contract.WriteOptions = {}): Promise<void> {
    this.requireConnected();
    const abs = this.resolvePath(p);
    await makeDir(abs, options.mode);
    if (options.mode !== undefined) await fs.chmod(abs, options.mode);
  }

  async symlink(target: string, p: contract.HostPath): Promise<void> {
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

  async stat(p: contract.HostPath): Promise<contract.FileStat | null> {
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

  async realpath(p: contract.HostPath): Promise<string | null> {
    this.requireConnected();
    try {
      return await fs.realpath(this.resolvePath(p));
    } catch (error) {
      if (isMissing(error) || errnoCode(error) === "ELOOP") return null;
      throw error;
    }
  }

  protected tail(
    file: string,
    stop: AbortSignal,
    options: contract.TailOptions,
  ): AsyncGenerator<string[], void, undefined> {
    return tailLocalFile(file, stop, options, this.tails);
  }

  archiveWorkdir(options: contract.ArchiveOptions = {}): Readable {
    this.requireConnected();
    return archiveLocally({
      command: archiveCommand({ workdir: this.workdir, exclude: options.exclude, include: options.include }),
      workdir: this.workdir,
      taskDir: this.taskDir,
      track: (child) => this.trackChild(child),
      kill: (pid) => this.killTreeNow(pid, 0),
    });
  }

  async archiveWorkdirToFile(file: FileHandle, options: contract.ArchiveOptions = {}): Promise<void> {
    this.requireConnected();
    const command = archiveCommand({ workdir: this.workdir, exclude: options.exclude, include: options.include });
    // tar writes the file itself: the archive's bytes never pass through this process.
    const { code, stderr } = await runTar(this.spawnTracked, command, { stdoutFd: file.fd });
    if (!archiveExitOk(code)) throw new ArchiveError(`archiving ${this.workdir} failed (exit ${code}): ${stderr}`);
  }

  async restoreWorkdirFromFile(file: FileHandle, options: contract.RestoreOptions = {}): Promise<void> {
    this.requireConnected();
    await restoreStaged(this.restoreTarget(), { fd: file.fd }, options);
  }

  async restoreWorkdirFromBytes(archive: Uint8Array, options: contract.RestoreOptions = {}): Promise<void> {
    this.requireConnected();
    await restoreStaged(this.restoreTarget(), { bytes: archive }, options);
  }

  async restoreWorkdir(archive: Readable, options: contract.RestoreOptions = {}): Promise<void> {
    this.requireConnected();
    await restoreStaged(this.restoreTarget(), { stream: archive }, options);
  }

  private restoreTarget(): RestoreTarget {
    return {
      taskDir: this.taskDir,
      workdir: this.workdir,
      run: (command) => this.runCommand(command),
      runTar: (command, input, onLine, onErrorLine) =>
        runTar(this.spawnTracked, command, { input }, onLine, onErrorLine),
    };
  }

  private readonly spawnTracked: SpawnTracked = (command, stdio) => {
    const child = spawnChild("/bin/sh", ["-c", command], { detached: true, stdio });
    this.trackChild(child);
    return child;
  };

  /** The port is on this machine already: nothing to forward. */
  protected async tunnelTo(remotePort: number): Promise<contract.Tunnel> {
    return { port: remotePort, close: async () => {} };
  }

  /** A local PTY starts without a login shell: nothing to ready. */
  preparePty(): void {
    this.requireConnected();
  }

  async openPty(command: string, options: contract.PtyOptions): Promise<contract.PtyHandle> {
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
        this.track(done);
      },
    });
    this.ptys.add(handle);
    return handle;
  }
}
