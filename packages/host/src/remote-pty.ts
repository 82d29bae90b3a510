import type { Readable } from "node:stream";
import type { ClientChannel } from "ssh2";
import type { ProcessExit, PtyHandle } from "./host.js";

export interface RemotePtyParts {
  channel: ClientChannel;
  /** The pid of the PTY's program on the host. */
  pid: number;
  /** The terminal's output, the pid marker already taken off. */
  output: Readable;
  /** Settles when the program has exited (or the connection went). */
  exit: Promise<ProcessExit>;
  /** Ends the program's process tree on the host. */
  killTree: (pid: number) => Promise<void>;
  /** Told when the PTY is closed or has exited, with the kill in flight if there is one. */
  onClosed?: (done: Promise<void>) => void;
}

/**
 * A PTY on an exec channel. Pausing stops reading the channel, so ssh2 stops
 * granting window and SSH flow control backs up to the remote program.
 */
export function remotePty(parts: RemotePtyParts): PtyHandle {
  const { channel, output } = parts;
  output.setEncoding("utf8");
  let exitInfo: ProcessExit | null = null;
  let closed = false;
  const exitListeners: Array<(exit: ProcessExit) => void> = [];
  output.on("error", () => {});
  channel.on("error", () => {});

  void parts.exit.then((exit) => {
    exitInfo = exit;
    for (const listener of exitListeners.splice(0)) listener(exit);
    if (!closed) {
      closed = true;
      parts.onClosed?.(Promise.resolve());
    }
  });

  return {
    onData(listener) {
      output.on("data", listener);
    },
    onExit(listener) {
      if (exitInfo) listener(exitInfo);
      else exitListeners.push(listener);
    },
    write(data) {
      if (!exitInfo && !closed && channel.writable) channel.write(data);
    },
    resize(cols, rows) {
      if (!exitInfo && !closed) channel.setWindow(rows, cols, 0, 0);
    },
    pause() {
      output.pause();
    },
    resume() {
      output.resume();
    },
    close() {
      if (closed) return;
      closed = true;
      const done = exitInfo
        ? Promise.resolve()
        : parts
            .killTree(parts.pid)
            .catch(() => {})
            .then(() => {
              channel.close();
            });
      parts.onClosed?.(done);
    },
  };
}
