import { createReadStream as fsCreateReadStream } from "node:fs";
import { PassThrough, Readable } from "node:stream";
import { archiveExitOk } from "./archive.js";
import { ArchiveError, OptioError } from "./errors.js";
import { feedLines } from "./line-feed.js";
import type { ArchiveInput } from "./local-tar.js";
import type { RemoteExit, RemoteProcess } from "./remote-process.js";

/** What the archive helpers need from a RemoteHost. */
export interface RemoteArchiveHost {
  workdir(): string;
  /** Starts a wrapped command, tracked by the host. */
  start(command: string): Promise<RemoteProcess>;
  /** Ends a process tree at once and closes its channel. */
  killNow(proc: RemoteProcess): Promise<void>;
  /** killNow in the background, for a reader that gave up while the connection lasts. */
  abandon(proc: RemoteProcess): void;
}

/** The tar.gz that `command` (archiveCommand) writes on the host, as a stream; destroying it ends tar. */
export function archiveRemotely(remote: RemoteArchiveHost, command: string): Readable {
  const out = new PassThrough();
  void remote.start(command).then(
    (proc) => {
      proc.channel.end();
      let stderr = "";
      proc.stderr.on("data", (c: Buffer) => {
        stderr = (stderr + c.toString("utf8")).slice(-4000);
      });
      proc.stdout.pipe(out, { end: false });
      void proc.closed.then((exit) => {
        if (exit.lost) out.destroy(exit.lost);
        else if (!exit.signal && archiveExitOk(exit.code)) out.end();
        else
          out.destroy(
            new ArchiveError(
              `archiving ${remote.workdir()} failed (exit ${exit.code ?? exit.signal}): ${stderr.trim()}`,
            ),
          );
      });
      out.once("close", () => {
        if (!out.writableFinished) remote.abandon(proc);
      });
    },
    (error: Error) =>
      out.destroy(OptioError.isInstance(error) ? error : new ArchiveError("could not start tar", { cause: error })),
  );
  return out;
}

/** RestoreTarget.runTar over the connection: the archive streams into a remote tar's stdin. */
export async function runRemoteTar(
  remote: RemoteArchiveHost,
  command: string,
  input: ArchiveInput,
  onLine: (line: string) => void,
  onErrorLine: (line: string) => void,
): Promise<{ code: number | null }> {
  const source =
    "stream" in input
      ? input.stream
      : "bytes" in input
        ? Readable.from([input.bytes])
        : fsCreateReadStream("", { fd: input.fd, start: 0, autoClose: false });
  let proc: RemoteProcess;
  try {
    proc = await remote.start(command);
  } catch (error) {
    source.destroy();
    throw error;
  }
  let failure: unknown = null;
  const failed = new Promise<void>((resolve) => {
    const fail = (error: unknown) => {
      failure ??= error;
      resolve();
    };
    feedLines(proc.stdout, onLine, fail);
    feedLines(proc.stderr, onErrorLine, fail);
    source.once("error", (error: Error) => fail(new ArchiveError("reading the archive failed", { cause: error })));
  });
  source.pipe(proc.channel);
  const outcome = await Promise.race([proc.closed, failed]);
  if (failure) {
    source.unpipe(proc.channel);
    source.destroy();
    // Nothing partial gets finished: tar dies before it sees the end of the stream.
    await remote.killNow(proc);
    throw failure;
  }
  const exit = outcome as RemoteExit;
  if (exit.lost) throw exit.lost;
  return { code: exit.code };
}
