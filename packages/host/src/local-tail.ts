import { constants, type FSWatcher, lstatSync, readSync, watch } from "node:fs";
import fs, { type FileHandle } from "node:fs/promises";
import path from "node:path";
import { UnsafeFileError } from "./errors.js";
import type { TailOptions } from "./host.js";
import { DEFAULT_TAIL_MAX_LINE_BYTES, LineSplitter } from "./line-splitter.js";
import { errnoCode, isMissing } from "./local-files.js";

const TAIL_POLL_MS = 250;
const READ_CHUNK = 1024 * 1024;

/**
 * Opens the file to tail, or null while it is missing. O_NOFOLLOW refuses a link in its place and
 * O_NONBLOCK keeps a FIFO's open from waiting for a writer; the handle itself must then be a regular file.
 */
async function openTailed(file: string): Promise<FileHandle | null> {
  let fh: FileHandle;
  try {
    fh = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (isMissing(error)) return null;
    if (errnoCode(error) === "ELOOP")
      throw new UnsafeFileError(`refusing to tail ${file}: it is a symbolic link`, { cause: error });
    throw error;
  }
  const st = await fh.stat().catch(async (error: unknown) => {
    await fh.close().catch(() => {});
    throw error;
  });
  if (!st.isFile()) {
    await fh.close().catch(() => {});
    throw new UnsafeFileError(`refusing to tail ${file}: it is not a regular file`);
  }
  return fh;
}

/**
 * A local file's lines, a read's worth at a time, until `stop`: woken by fs.watch, with a poll
 * behind it. `wakers` holds this tail's wake-up while it runs, for the host to call on disconnect.
 */
export async function* tailLocalFile(
  file: string,
  stop: AbortSignal,
  options: TailOptions,
  wakers: Set<() => void>,
): AsyncGenerator<string[], void, undefined> {
  const splitter = new LineSplitter({
    maxLineBytes: options.maxLineBytes ?? DEFAULT_TAIL_MAX_LINE_BYTES,
    onLongLine: options.onLongLine,
  });
  const buf = Buffer.allocUnsafe(READ_CHUNK);
  const watchers: FSWatcher[] = [];
  let fh: FileHandle | null = null;
  let ino = -1;
  let pos = 0;
  let dirty = false;
  let wake: (() => void) | null = null;
  const poke = () => {
    dirty = true;
    const w = wake;
    wake = null;
    w?.();
  };
  const watchPath = (target: string) => {
    try {
      const w = watch(target, { persistent: false }, poke);
      w.on("error", () => {});
      watchers.push(w);
    } catch {
      // The poll below covers a path that cannot be watched (yet).
    }
  };
  stop.addEventListener("abort", poke);
  wakers.add(poke);
  watchPath(path.dirname(file));
  try {
    while (!stop.aborted) {
      dirty = false;
      if (!fh) {
        fh = await openTailed(file);
        if (fh) {
          ino = (await fh.stat()).ino;
          pos = 0;
          splitter.reset();
          watchPath(file);
        }
      }
      if (fh) {
        for (;;) {
          // Synchronous reads of a local file take microseconds and skip two thread-pool hops per append.
          const bytesRead = readSync(fh.fd, buf, 0, buf.length, pos);
          if (bytesRead === 0) break;
          pos += bytesRead;
          const lines = splitter.push(buf.subarray(0, bytesRead));
          if (stop.aborted) return;
          if (lines.length > 0) yield lines;
          // A huge file without newlines (a sparse one, say) is read in turns with everything else on the loop.
          else await new Promise<void>((resolve) => setImmediate(resolve));
        }
        // lstat: a link put in the file's place is a replacement, refused when it is opened.
        const now = lstatSync(file, { throwIfNoEntry: false });
        if (!now || now.ino !== ino) {
          // Replaced or removed: the old file is read to its end; follow the new one from line 1.
          await fh.close().catch(() => {});
          fh = null;
          if (now) continue;
        } else if (now.size < pos) {
          pos = 0;
          splitter.reset();
          continue;
        }
      }
      if (dirty || stop.aborted) continue;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(poke, TAIL_POLL_MS);
      });
      clearTimeout(timer);
    }
  } finally {
    stop.removeEventListener("abort", poke);
    wakers.delete(poke);
    for (const w of watchers) w.close();
    await fh?.close().catch(() => {});
  }
}
