import path from "node:path";
import type { SFTPWrapper } from "ssh2";
import { PassThrough, type Readable } from "node:stream";
import { FileNotFoundError, HostFileError } from "./errors.js";
import type { FileStat } from "./host.js";
import { INTERNAL_BOUND_MS } from "./remote-process.js";
import type { SshConnection } from "./ssh-connection.js";
import { tempSibling } from "./temp-sibling.js";

export const SFTP_NO_SUCH_FILE = 2;
const S_IFMT = 0o170000;

/** The kind of file an SFTP stat's mode describes. */
export function fileType(mode: number): FileStat["type"] {
  const format = mode & S_IFMT;
  return format === 0o100000 ? "file" : format === 0o040000 ? "directory" : format === 0o120000 ? "symlink" : "other";
}

export function sftpCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/** Files on the host through the connection's SFTP session: bounded requests, `mkdir -p`, atomic writes. */
export class SftpFiles {
  /** `conn` throws NotConnectedError while there is no connection. */
  constructor(private readonly conn: () => SshConnection) {}

  async sftp(): Promise<SFTPWrapper> {
    return this.conn().sftp();
  }

  /** One SFTP request, failed by a lost connection and bounded. */
  async call<T>(
    what: string,
    call: (sftp: SFTPWrapper, done: (error: Error | null | undefined, value?: T) => void) => void,
  ): Promise<T> {
    const sftp = await this.sftp();
    return this.conn().track<T>(
      what,
      (resolve, reject) => {
        call(sftp, (error, value) => (error ? reject(error) : resolve(value as T)));
      },
      INTERNAL_BOUND_MS,
    );
  }

  async stat(p: string, follow: boolean): Promise<{ mode: number; size: number; mtime: number } | null> {
    try {
      return await this.call<{ mode: number; size: number; mtime: number }>(`stat ${p}`, (sftp, done) =>
        follow ? sftp.stat(p, done) : sftp.lstat(p, done),
      );
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
  async mkdir(dir: string, mode?: number): Promise<void> {
    const missing: string[] = [];
    for (let level = dir; ; level = path.posix.dirname(level)) {
      const st = await this.stat(level, true);
      if (st) {
        if (fileType(st.mode) !== "directory")
          throw new HostFileError(`cannot make directory ${dir}: ${level} is not a directory`);
        break;
      }
      missing.unshift(level);
      if (path.posix.dirname(level) === level) break;
    }
    for (const level of missing) {
      try {
        await this.call<void>(`mkdir ${level}`, (s, done) => s.mkdir(level, mode === undefined ? {} : { mode }, done));
      } catch (error) {
        const now = await this.stat(level, true).catch(() => null);
        if (!now || fileType(now.mode) !== "directory")
          throw new HostFileError(`cannot make directory ${level}`, { cause: error });
      }
    }
    if (mode !== undefined) await this.call<void>(`chmod ${dir}`, (s, done) => s.chmod(dir, mode, done));
  }

  /** Writes through a temp file in the same directory, renamed over the target; `write` gets a function writing a chunk at a position. */
  async atomicWrite(
    target: string,
    mode: number | undefined,
    write: (writeChunk: (chunk: Uint8Array, position: number) => Promise<void>) => Promise<boolean | void>,
  ): Promise<boolean> {
    const dir = path.posix.dirname(target);
    let finalMode = mode;
    if (finalMode === undefined) {
      const existing = await this.stat(target, true);
      if (existing && fileType(existing.mode) === "file") finalMode = existing.mode & 0o7777;
    }
    const tmp = tempSibling(target);
    const open = () =>
      this.call<Buffer>(`open ${tmp}`, (s, done) => s.open(tmp, "wx", { mode: finalMode ?? 0o666 }, done));
    let handle: Buffer;
    try {
      handle = await open();
    } catch (error) {
      if (sftpCode(error) !== SFTP_NO_SUCH_FILE) throw error;
      await this.mkdir(dir);
      handle = await open();
    }
    let keep = true;
    try {
      keep = (await write((chunk, position) => this.writeAll(handle, chunk, position))) !== false;
      if (keep && finalMode !== undefined)
        await this.call<void>(`chmod ${tmp}`, (s, done) => s.fchmod(handle, finalMode, done));
      if (keep) await this.call<void>(`fsync ${tmp}`, (s, done) => s.ext_openssh_fsync(handle, done)).catch(() => {});
    } catch (error) {
      await this.call<void>(`close ${tmp}`, (s, done) => s.close(handle, done)).catch(() => {});
      await this.call<void>(`unlink ${tmp}`, (s, done) => s.unlink(tmp, done)).catch(() => {});
      throw error;
    }
    await this.call<void>(`close ${tmp}`, (s, done) => s.close(handle, done));
    if (!keep) {
      await this.call<void>(`unlink ${tmp}`, (s, done) => s.unlink(tmp, done)).catch(() => {});
      return false;
    }
    try {
      await this.call<void>(`rename ${tmp}`, (s, done) => s.ext_openssh_rename(tmp, target, done));
    } catch (error) {
      await this.call<void>(`unlink ${tmp}`, (s, done) => s.unlink(tmp, done)).catch(() => {});
      throw error;
    }
    return true;
  }

  private async writeAll(handle: Buffer, chunk: Uint8Array, position: number): Promise<void> {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    await this.call<void>("write", (s, done) => s.write(handle, buf, 0, buf.length, position, done));
  }

  /** The file's bytes as a stream; a missing file is FileNotFoundError, a lost connection ends it with an error. */
  readStream(abs: string): Readable {
    const out = new PassThrough();
    let unregister = () => {};
    const fail = (error: Error) => {
      unregister();
      out.destroy(
        sftpCode(error) === SFTP_NO_SUCH_FILE ? new FileNotFoundError(`no such file: ${abs}`, { cause: error }) : error,
      );
    };
    unregister = this.conn().register(fail);
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
}
