import os from "node:os";
import type { PtyHandle } from "./host.js";
import { ptyHandle } from "./pty-handle.js";

export interface LocalPtyOptions {
  cols: number;
  rows: number;
  cwd: string;
  env: Record<string, string>;
  /** Ends the PTY's process tree; its promise is what `close()` hands to `onClosed`. */
  killTree: (pid: number) => Promise<void>;
  /** Told when the PTY is closed or has exited, with the kill in flight if there is one. */
  onClosed?: (done: Promise<void>) => void;
}

const signalNames = new Map<number, string>(Object.entries(os.constants.signals).map(([name, num]) => [num, name]));

type NodePty = typeof import("node-pty");
let nodePty: Promise<NodePty> | null = null;

/** node-pty and its native addon, loaded by the first PTY rather than by every importer of this package. */
function loadNodePty(): Promise<NodePty> {
  nodePty ??= import("node-pty");
  return nodePty;
}

/** A node-pty terminal running `/bin/sh -c command`; its shell leads its own session. */
export async function openLocalPty(command: string, options: LocalPtyOptions): Promise<PtyHandle> {
  const pty = await loadNodePty();
  const proc = pty.spawn("/bin/sh", ["-c", command], {
    name: "xterm-256color",
    cols: options.cols,
    rows: options.rows,
    cwd: options.cwd,
    env: options.env,
  });
  const terminal = ptyHandle({
    onData: (listener) => proc.onData(listener),
    write: (data) => proc.write(data),
    resize: (cols, rows) => proc.resize(cols, rows),
    pause: () => proc.pause(),
    resume: () => proc.resume(),
    kill: () => options.killTree(proc.pid),
    onClosed: options.onClosed,
  });
  proc.onExit(({ exitCode, signal }) =>
    terminal.exited(
      signal ? { code: null, signal: signalNames.get(signal) ?? `SIG${signal}` } : { code: exitCode, signal: null },
    ),
  );
  return terminal.handle;
}
