import { PassThrough, Readable, Writable } from "node:stream";
import { bounded } from "./bounded.js";
import { OptioAbortError, type OptioError, OptioTimeoutError } from "./errors.js";
import type { ProcessHandle, RunOptions, RunResult } from "./host.js";
import type { RemoteProcess } from "./remote-process.js";

/**
 * Feeds a started remote command its stdin and collects its output until it
 * ends; an abort or timeout calls `kill` (which ends its tree) and rejects.
 */
export function collectRun(
  proc: RemoteProcess,
  command: string,
  options: RunOptions,
  kill: () => Promise<void>,
): Promise<RunResult> {
  const { signal, timeoutMs } = options;
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  proc.stdout.on("data", (c: Buffer) => stdout.push(c));
  proc.stderr.on("data", (c: Buffer) => stderr.push(c));
  const stderrDone = new Promise<void>((resolve) => {
    proc.stderr.once("end", resolve);
    proc.stderr.once("close", resolve);
  });
  if (options.stdin !== undefined)
    proc.channel.end(typeof options.stdin === "string" ? Buffer.from(options.stdin) : options.stdin);
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
      void kill()
        .catch(() => {})
        .then(() => {
          proc.channel.close();
          reject(error);
        });
    };
    const onAbort = () => stop(new OptioAbortError(`aborted: ${command}`, { cause: signal?.reason }));
    signal?.addEventListener("abort", onAbort, { once: true });
    if (timeoutMs !== undefined)
      timer = setTimeout(() => stop(new OptioTimeoutError(`timed out after ${timeoutMs} ms: ${command}`)), timeoutMs);
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

/** The ProcessHandle of a started remote command: its streams detached from the channel, stdin only when asked for. */
export function processHandle(proc: RemoteProcess, merge: boolean, wantStdin: boolean): ProcessHandle {
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
  if (wantStdin) {
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
