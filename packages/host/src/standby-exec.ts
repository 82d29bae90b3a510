import { randomBytes } from "node:crypto";
import type { ClientChannel } from "ssh2";
import { shellQuote } from "./shell.js";

/** Longer commands go through their own exec request: the standby reads its command a byte at a time. */
const MAX_COMMAND_BYTES = 32 * 1024;
/** How long releasing waits for the server to close the standby (its login shell may still be in its rc files). */
const RELEASE_BOUND_MS = 10_000;

/**
 * One exec channel opened ahead of need. sshd runs every command through the
 * user's login shell, and its startup (bash reads ~/.bashrc even for
 * `bash -c` under sshd) often costs 100 ms or more; the standby pays it while
 * nothing waits. Its shell then reads the next command from stdin and execs
 * it, so the channel is that command's — pid, stdin, output and exit status —
 * as if the command had been the exec request itself.
 */
export class StandbyExec {
  private readonly endLine = `OPTIO_STANDBY_END_${randomBytes(8).toString("hex")}`;
  private spare: Promise<ClientChannel | null> | null = null;
  private readonly closed = new WeakSet<ClientChannel>();

  constructor(private readonly open: (command: string) => Promise<ClientChannel>) {}

  /** The exec request of a standby: a POSIX sh gathering lines until the end line, then becoming them. */
  get command(): string {
    const reader = [
      "c=",
      "while IFS= read -r l; do",
      `  if [ "$l" = ${this.endLine} ]; then exec /bin/sh -c "$c"; fi`,
      '  c="$c$l',
      '"',
      "done",
    ].join("\n");
    return `exec /bin/sh -c ${shellQuote(reader)}`;
  }

  /** Opens a standby unless one is there or on its way. A failure only means the next command opens its own. */
  fill(): void {
    if (this.spare) return;
    const spare = this.open(this.command).then(
      (channel) => {
        channel.on("error", () => {});
        channel.stderr.on("error", () => {});
        // Nothing reads a standby's output before it is taken, so "close" would wait for a reader; "exit" does not.
        const ended = () => this.closed.add(channel);
        channel.once("exit", ended);
        channel.once("close", ended);
        return channel;
      },
      () => null,
    );
    this.spare = spare;
    void spare.then((channel) => {
      if (channel === null && this.spare === spare) this.spare = null;
    });
  }

  /** The standby turned into `command`, or null when there is none to take (the caller opens its own). */
  async take(command: string): Promise<ClientChannel | null> {
    if (Buffer.byteLength(command) > MAX_COMMAND_BYTES || command.includes(this.endLine)) return null;
    const spare = this.spare;
    this.spare = null;
    const channel = spare ? await spare : null;
    if (!channel || this.closed.has(channel) || !channel.writable) {
      channel?.close();
      return null;
    }
    channel.write(`${command}\n${this.endLine}\n`);
    return channel;
  }

  /** Closes an idle standby (its shell exits at end of input); true when there was one. */
  async release(): Promise<boolean> {
    const spare = this.spare;
    this.spare = null;
    const channel = spare ? await spare : null;
    if (!channel || this.closed.has(channel)) return false;
    // The server frees the session once its shell has gone, which "close" reports after the output is drained.
    channel.resume();
    channel.stderr.resume();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, RELEASE_BOUND_MS);
      channel.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      channel.close();
    });
    return true;
  }
}
