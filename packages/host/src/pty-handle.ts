import type { ProcessExit, PtyHandle } from "./host.js";

/** What a PTY of either host does by itself; ptyHandle adds the exit and close rules they share. */
export interface PtyParts {
  onData(listener: (data: string) => void): void;
  /** Called only while the program runs and the PTY is open. */
  write(data: string): void;
  /** Called only while the program runs and the PTY is open. */
  resize(cols: number, rows: number): void;
  pause(): void;
  resume(): void;
  /** Ends the program's process tree; a close calls it while the program still runs. */
  kill(): Promise<void>;
  /** Told when the PTY is closed or its program has exited, with the kill in flight if there is one. */
  onClosed?: (done: Promise<void>) => void;
}

/**
 * A PtyHandle over `parts`, and `exited` to call once its program has
 * exited: listeners hear the exit (a late one at once), input stops, and a
 * close after it kills nothing.
 */
export function ptyHandle(parts: PtyParts): { handle: PtyHandle; exited(exit: ProcessExit): void } {
  let exitInfo: ProcessExit | null = null;
  let closed = false;
  const exitListeners: Array<(exit: ProcessExit) => void> = [];
  const open = () => exitInfo === null && !closed;
  return {
    exited(exit) {
      exitInfo = exit;
      for (const listener of exitListeners.splice(0)) listener(exit);
      if (closed) return;
      closed = true;
      parts.onClosed?.(Promise.resolve());
    },
    handle: {
      onData: (listener) => parts.onData(listener),
      onExit(listener) {
        if (exitInfo) listener(exitInfo);
        else exitListeners.push(listener);
      },
      write(data) {
        if (open()) parts.write(data);
      },
      resize(cols, rows) {
        if (open()) parts.resize(cols, rows);
      },
      pause: () => parts.pause(),
      resume: () => parts.resume(),
      close() {
        if (closed) return;
        closed = true;
        parts.onClosed?.(exitInfo ? Promise.resolve() : parts.kill().catch(() => {}));
      },
    },
  };
}
