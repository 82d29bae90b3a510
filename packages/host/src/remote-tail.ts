import { shellQuote } from "./shell.js";

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
    '  t=$!',
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
