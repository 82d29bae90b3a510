import { HostCommandError, UnsafeFileError } from "./errors.js";
import type { TailOptions } from "./host.js";
import { DEFAULT_TAIL_MAX_LINE_BYTES, LineSplitter } from "./line-splitter.js";
import type { RemoteExit, RemoteProcess } from "./remote-process.js";
import { shellQuote } from "./shell.js";

/** Lines queued in a tail before the channel is paused (SSH flow control does the rest). */
const TAIL_HIGH_WATER = 50_000;

/** Exit status of the tail script when the file is not a regular file at its path. */
export const UNSAFE_TAIL_EXIT = 3;

/**
 * The POSIX sh run for a remote tail. It waits for the file, refuses a
 * symbolic link, FIFO or device at the path, opens it (read-write, so even a
 * FIFO swapped in at that moment cannot block the open), checks the handle is
 * a regular file and the same file as the path, then has GNU tail follow it
 * by descriptor (inotify). It checks the path against the handle five times a
 * second: a replacement is followed from its line 1, a link put in place ends
 * the tail. TERM ends the tail with it, and so does the end of the SSH
 * session that started it (the script is re-parented): a worker killed
 * without a goodbye would otherwise leave the tail waiting forever, since it
 * writes nothing to its closed channel while the file is quiet or gone.
 */
export function remoteTailScript(file: string): string {
  return [
    `f=${shellQuote(file)}`,
    "t=",
    `trap 'if [ -n "$t" ]; then kill "$t" 2>/dev/null; fi; exit 0' TERM`,
    `unsafe() { echo "$f is $1" >&2; exit ${UNSAFE_TAIL_EXIT}; }`,
    // The fields after the command name (always "sh" or "dash" here, so without spaces): state, then the parent's pid.
    'orphaned() { read -r _ _ _ p _ < /proc/$$/stat; [ "$p" != "$PPID" ]; }',
    "while :; do",
    '  while [ ! -e "$f" ] && [ ! -L "$f" ]; do orphaned && exit 0; sleep 0.05; done',
    '  [ -L "$f" ] && unsafe "a symbolic link"',
    '  [ -f "$f" ] || unsafe "not a regular file"',
    '  exec 3<>"$f"',
    '  { [ -f /proc/$$/fd/3 ] && [ ! -L "$f" ] && [ "$f" -ef /proc/$$/fd/3 ]; } || unsafe "not a regular file"',
    '  tail -c +1 -f -s 0.05 -- "$f" 3<&- &',
    "  t=$!",
    '  while kill -0 "$t" 2>/dev/null && [ ! -L "$f" ] && [ "$f" -ef /proc/$$/fd/3 ] && ! orphaned; do sleep 0.2; done',
    // The old file's last appends reach the output before its tail goes.
    "  sleep 0.1",
    '  kill "$t" 2>/dev/null',
    '  wait "$t" 2>/dev/null',
    "  t=",
    "  exec 3<&-",
    "  orphaned && exit 0",
    "done",
  ].join("\n");
}

/** How a remote tail starts its script and ends it early. */
export interface RemoteTailProcess {
  /** Starts remoteTailScript(file). */
  start(): Promise<RemoteProcess>;
  /** Ends a tail still running when its reader stops. */
  end(proc: RemoteProcess): void;
}

/** The lines a remote tail script prints, as they arrive, until `stop` or the script ends (which is an error). */
export async function* tailRemoteFile(
  file: string,
  stop: AbortSignal,
  options: TailOptions,
  process: RemoteTailProcess,
): AsyncGenerator<string[], void, undefined> {
  if (stop.aborted) return;
  let proc: RemoteProcess;
  try {
    proc = await process.start();
  } catch (error) {
    if (stop.aborted) return;
    throw error;
  }
  proc.channel.end();
  const splitter = new LineSplitter({
    maxLineBytes: options.maxLineBytes ?? DEFAULT_TAIL_MAX_LINE_BYTES,
    onLongLine: options.onLongLine,
  });
  const batches: string[][] = [];
  let queued = 0;
  let paused = false;
  let finished: RemoteExit | null = null;
  let stderrTail = "";
  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  proc.stdout.on("data", (chunk: Buffer) => {
    const lines = splitter.push(chunk);
    if (lines.length === 0) return;
    batches.push(lines);
    queued += lines.length;
    if (queued > TAIL_HIGH_WATER && !paused) {
      paused = true;
      proc.stdout.pause();
    }
    poke();
  });
  proc.stderr.on("data", (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString("utf8")).slice(-2000);
  });
  void proc.exited.then((exit) => {
    finished = exit;
    poke();
  });
  stop.addEventListener("abort", poke);
  try {
    for (;;) {
      if (stop.aborted) return;
      const next = batches.shift();
      if (next) {
        queued -= next.length;
        yield next;
        continue;
      }
      if (paused) {
        paused = false;
        proc.stdout.resume();
      }
      if (finished) {
        const exit: RemoteExit = finished;
        if (stop.aborted) return;
        if (exit.lost) throw exit.lost;
        // The reason is on stderr, which can still be on its way when the exit status arrives; the channel closes after it.
        await proc.closed;
        if (exit.code === UNSAFE_TAIL_EXIT) throw new UnsafeFileError(`refusing to tail ${stderrTail.trim() || file}`);
        throw new HostCommandError(`tail ${file}`, exit.code, stderrTail);
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    stop.removeEventListener("abort", poke);
    if (finished) proc.channel.close();
    else process.end(proc);
  }
}
