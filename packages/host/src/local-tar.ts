import type { ChildProcess, StdioOptions } from "node:child_process";
import fs from "node:fs/promises";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { extractCommand } from "./archive.js";
import { listArchiveCommand, parseListingLine } from "./archive-listing.js";
import { EntryChecker } from "./entry-checker.js";
import { ArchiveError, OptioError } from "./errors.js";
import type { RestoreOptions } from "./host.js";
import { LineSplitter } from "./line-splitter.js";

/** Where tar reads an archive from, as often as needed: a file this process has open, or bytes written to its stdin. */
export type ArchiveInput = { fd: number } | { bytes: Uint8Array };

/** Starts a shell command in a process group of its own, tracked by its host. */
export type SpawnTracked = (command: string, stdio: StdioOptions) => ChildProcess;

/**
 * Runs `command` with `input` as its stdin and, when given, an open file as
 * its stdout. Each line of its stdout goes to `onLine`. A line that throws,
 * or an input stream that fails, ends the command's whole process group and
 * rejects: with that error when it is an OptioError, else with an
 * ArchiveError carrying tar's stderr. Tar never sees the end of an archive
 * that failed.
 */
export async function runTar(
  spawn: SpawnTracked,
  command: string,
  io: { input?: ArchiveInput | { stream: Readable }; stdoutFd?: number },
  onLine?: (line: string) => void,
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
  if (onLine && child.stdout) {
    const splitter = new LineSplitter();
    const take = (lines: string[]) => {
      if (failure) return;
      try {
        for (const line of lines) onLine(line);
      } catch (error) {
        fail(error);
      }
    };
    child.stdout.on("data", (chunk: Buffer) => take(splitter.push(chunk)));
    child.stdout.once("end", () => {
      const last = splitter.flush();
      if (last !== null) take([last]);
    });
  }
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", (error) => reject(new ArchiveError(`could not start: ${command}`, { cause: error })));
    child.once("close", (exit) => resolve(exit));
  });
  if (OptioError.isInstance(failure)) throw failure;
  // An input that broke (tar gone, a read error): what tar printed says why.
  if (failure) throw new ArchiveError(`tar stopped before the end of its input: ${stderr.trim()}`, { cause: failure });
  return { code, stderr: stderr.trim() };
}

/**
 * Restores a tar.gz into `workdir` with tar reading it itself, twice: first
 * a listing whose every entry is checked as restoreWorkdir checks them, then
 * the extraction. An unsafe or corrupt archive therefore fails before
 * `clear` runs or a file is written. A file is read through /proc so that
 * each pass opens it anew, from its start.
 */
export async function restoreChecked(
  spawn: SpawnTracked,
  workdir: string,
  input: ArchiveInput,
  clear: (() => Promise<void>) | null,
  limits: Pick<RestoreOptions, "maxBytes" | "maxEntries"> = {},
): Promise<void> {
  const source = "fd" in input ? "/proc/self/fd/0" : "-";
  const checker = new EntryChecker(limits);
  const listed = await runTar(spawn, listArchiveCommand(source), { input }, (line) => {
    checker.check(parseListingLine(line));
  });
  if (listed.code !== 0) throw new ArchiveError(`the archive is not a valid tar.gz (truncated or corrupt): ${listed.stderr}`);
  if (clear) await clear();
  const extracted = await runTar(spawn, extractCommand(workdir, source), { input });
  // The archive's own `.` entry may have changed the workdir's mode.
  const modeRestored = fs.chmod(workdir, 0o700);
  if (extracted.code !== 0) {
    await modeRestored.catch(() => {});
    throw new ArchiveError(`tar could not extract into ${workdir} (exit ${extracted.code}): ${extracted.stderr}`);
  }
  await modeRestored;
}
