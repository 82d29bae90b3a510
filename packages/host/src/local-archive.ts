import { type ChildProcess, execFile, spawn as spawnChild } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, constants, openSync, unlinkSync } from "node:fs";
import { type OnReadOpts, Socket, type SocketConstructorOpts } from "node:net";
import path from "node:path";
import { Readable } from "node:stream";
import { archiveExitOk } from "./archive.js";
import { ArchiveError, OptioError } from "./errors.js";

/** Archive bytes are handed on in pieces this size or smaller; see archiveLocally. */
const ARCHIVE_READ_CHUNK = 4 * 1024;

export interface LocalArchiveOptions {
  /** The tar command (archiveCommand) writing the archive to stdout. */
  command: string;
  workdir: string;
  /** Where the short-lived FIFO is made. */
  taskDir: string;
  /** Told of the tar process, for disconnect to end it. */
  track: (child: ChildProcess) => void;
  /** Ends a process tree at once. */
  kill: (pid: number) => Promise<void>;
}

/**
 * Both ends of a fresh pipe: a FIFO made in the task dir, opened and
 * unlinked at once. A child's stdout pipe from spawn() cannot be read into
 * a caller-owned buffer; a socket over this one can.
 */
async function archivePipe(taskDir: string): Promise<{ readFd: number; writeFd: number }> {
  const fifo = path.join(taskDir, `.archive-${randomBytes(6).toString("hex")}.fifo`);
  await new Promise<void>((resolve, reject) => {
    execFile("mkfifo", ["-m", "600", fifo], (error, _stdout, stderr) => {
      if (error)
        reject(
          new ArchiveError(`could not make a pipe for the archive: ${stderr.trim() || error.message}`, {
            cause: error,
          }),
        );
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

/** The workdir's tar.gz as a stream, read from a local tar through a FIFO; destroying it ends tar. */
export function archiveLocally(options: LocalArchiveOptions): Readable {
  const { command, workdir } = options;
  let child: ChildProcess | null = null;
  let reader: Socket | null = null;
  const out = new Readable({
    read: () => {
      reader?.resume();
    },
    destroy: (error, callback) => {
      reader?.destroy();
      if (child && child.exitCode === null && child.signalCode === null && child.pid)
        void options.kill(child.pid).catch(() => {});
      callback(error);
    },
  });
  const start = async () => {
    const pipe = await archivePipe(options.taskDir);
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
    options.track(spawned);
    // Each read lands in one reused buffer and is copied out at its exact size: a fresh
    // 64 KB buffer per read left tens of MB of garbage waiting for the next collection.
    // `onread` is a documented constructor option that this @types/node does not list yet.
    const socketOptions: SocketConstructorOpts & { onread: OnReadOpts } = {
      fd: pipe.readFd,
      readable: true,
      writable: false,
      // Returning false (the consumer is full) pauses the socket until `read` resumes it.
      onread: {
        buffer: Buffer.allocUnsafe(ARCHIVE_READ_CHUNK),
        callback: (n, buf) => out.push(Buffer.from(buf.subarray(0, n))),
      },
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
    if (!archiveExitOk(code)) throw new ArchiveError(`archiving ${workdir} failed (exit ${code}): ${stderr.trim()}`);
    out.push(null);
  };
  start().catch((error: unknown) => {
    out.destroy(
      OptioError.isInstance(error) ? error : new ArchiveError(`archiving ${workdir} failed`, { cause: error }),
    );
  });
  return out;
}
