import type { ChildProcess, StdioOptions } from "node:child_process";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ArchiveError, OptioError } from "./errors.js";
import { feedLines } from "./line-feed.js";

/** Where tar reads an archive from: a file this process has open, bytes written to its stdin, or a stream piped into it. */
export type ArchiveInput = { fd: number } | { bytes: Uint8Array } | { stream: Readable };

/** Starts a shell command in a process group of its own, tracked by its host. */
export type SpawnTracked = (command: string, stdio: StdioOptions) => ChildProcess;

/**
 * Runs `command` with `input` as its stdin and, when given, an open file as
 * its stdout. Each line of its stdout goes to `onLine`, each of its stderr to
 * `onErrorLine`. A line that throws,
 * or an input stream that fails, ends the command's whole process group and
 * rejects: with that error when it is an OptioError, else with an
 * ArchiveError carrying tar's stderr. Tar never sees the end of an archive
 * that failed.
 */
export async function runTar(
  spawn: SpawnTracked,
  command: string,
  io: { input?: ArchiveInput; stdoutFd?: number },
  onLine?: (line: string) => void,
  onErrorLine?: (line: string) => void,
): Promise<{ code: number | null; stderr: string }> {
  const stdin = io.input === undefined ? "ignore" : "fd" in io.input ? io.input.fd : "pipe";
  const child = spawn(command, [stdin, io.stdoutFd ?? (onLine ? "pipe" : "ignore"), "pipe"]);
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => {
    stderr = (stderr + c.toString("utf8")).slice(-4000);
  });
  if (io.input && "bytes" in io.input) {
    // A tar that stops reading early (refused, corrupt) closes the pipe; its exit status tells why.
    child.stdin!.on("error", () => {});
    child.stdin!.end(io.input.bytes);
  }
  let failure: unknown = null;
  const fail = (error: unknown) => {
    if (failure) return;
    failure = error;
    // The whole group: tar's gzip must not stay behind.
    try {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  };
  if (io.input && "stream" in io.input) pipeline(io.input.stream, child.stdin!).catch(fail);
  if (onLine && child.stdout) feedLines(child.stdout, onLine, fail);
  if (onErrorLine) feedLines(child.stderr!, onErrorLine, fail);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", (error) => reject(new ArchiveError(`could not start: ${command}`, { cause: error })));
    child.once("close", (exit) => resolve(exit));
  });
  if (OptioError.isInstance(failure)) throw failure;
  // An input that broke (tar gone, a read error): what tar printed says why.
  if (failure) throw new ArchiveError(`tar stopped before the end of its input: ${stderr.trim()}`, { cause: failure });
  return { code, stderr: stderr.trim() };
}
