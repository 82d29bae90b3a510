import type { Readable } from "node:stream";
import type { ClientChannel } from "ssh2";
import type { ProcessExit, PtyHandle } from "./host.js";
import { ptyHandle } from "./pty-handle.js";

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
  output.on("error", () => {});
  channel.on("error", () => {});
  const pty = ptyHandle({
    onData: (listener) => output.on("data", listener),
    write: (data) => {
      if (channel.writable) channel.write(data);
    },
    resize: (cols, rows) => channel.setWindow(rows, cols, 0, 0),
    pause: () => output.pause(),
    resume: () => output.resume(),
    kill: () =>
      parts
        .killTree(parts.pid)
        .catch(() => {})
        .then(() => {
          channel.close();
        }),
    onClosed: parts.onClosed,
  });
  void parts.exit.then((exit) => pty.exited(exit));
  return pty.handle;
}
