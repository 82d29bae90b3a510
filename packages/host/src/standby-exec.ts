import { randomBytes } from "node:crypto";
import type { ClientChannel } from "ssh2";
import { recordChannelExit } from "./channel-exit.js";
import { shellQuote } from "./shell.js";

/** Longer commands go through their own exec request: the standby reads its command a byte at a time. */
const MAX_COMMAND_BYTES = 32 * 1024;
/** How long releasing waits for the server to close the standby (its login shell may still be in its rc files). */
const RELEASE_BOUND_MS = 10_000;

/** A PTY's line discipline holds at most 4095 bytes of a line it has not yet handed over (the shell may still be in its rc files). */
const MAX_PTY_LINE_BYTES = 4000;

export interface StandbyOptions {
  /** How many standbys are kept. */
  size: number;
  /** The standbys are PTY channels: their shell reads the command with echo off and puts the terminal back before running it. */
  pty?: boolean;
}

/**
 * Exec channels opened ahead of need. sshd runs every command through the
 * user's login shell, and its startup (bash reads ~/.bashrc even for
 * `bash -c` under sshd) often costs 100 ms or more; a standby pays it while
 * nothing waits. Its shell then reads the next command from stdin and execs
 * it, so the channel is that command's — pid, stdin, output and exit status —
 * as if the command had been the exec request itself.
 */
export class StandbyExec {
  private readonly endLine = `OPTIO_STANDBY_END_${randomBytes(8).toString("hex")}`;
  private readonly size: number;
  private readonly pty: boolean;
  /** The exec request of a standby: a POSIX sh gathering lines until the end line, then becoming them. */
  private readonly command: string;

  /** Oldest first: the oldest is the furthest through its shell's startup. */
  private spares: Array<Promise<ClientChannel | null>> = [];
  private readonly closed = new WeakSet<ClientChannel>();

  constructor(
    private readonly open: (command: string) => Promise<ClientChannel>,
    options: StandbyOptions,
  ) {
    this.size = options.size;
    this.pty = options.pty ?? false;
    // On a PTY the terminal would echo the command and cook its bytes: it is read raw and silent, and the settings are back before it runs.
    const [before, restore] = this.pty ? ["s=$(stty -g); stty raw -echo", 'stty "$s"; '] : ["", ""];
    const script = [
      before,
      "c=",
      "while IFS= read -r l; do",
      `  if [ "$l" = ${this.endLine} ]; then ${restore}exec /bin/sh -c "$c"; fi`,
      '  c="$c$l',
      '"',
      "done",
    ];
    this.command = `exec /bin/sh -c ${shellQuote(script.filter((line) => line !== "").join("\n"))}`;
  }

  /** Opens standbys up to `size`. A failure only means a later command opens its own. */
  fill(): void {
    while (this.spares.length < this.size) {
      const spare = this.open(this.command).then(
        (channel) => {
          channel.on("error", () => {});
          channel.stderr.on("error", () => {});
          recordChannelExit(channel);
          // Nothing reads a standby's output before it is taken, so "close" would wait for a reader; "exit" does not.
          const ended = () => this.closed.add(channel);
          channel.once("exit", ended);
          channel.once("close", ended);
          return channel;
        },
        () => null,
      );
      this.spares.push(spare);
      void spare.then((channel) => {
        if (channel === null) this.spares = this.spares.filter((s) => s !== spare);
      });
    }
  }

  /** A standby turned into `command`, or null when there is none to take (the caller opens its own). */
  async take(command: string): Promise<ClientChannel | null> {
    if (!this.fits(command)) return null;
    let spare = this.spares.shift();
    // Refilled before waiting: each command of a burst finds a standby of its own.
    this.fill();
    for (; spare; spare = this.spares.shift()) {
      const channel = await spare;
      if (!channel) continue;
      if (this.closed.has(channel) || !channel.writable) {
        channel.close();
        continue;
      }
      channel.write(`${command}\n${this.endLine}\n`);
      return channel;
    }
    return null;
  }

  private fits(command: string): boolean {
    if (Buffer.byteLength(command) > MAX_COMMAND_BYTES || command.includes(this.endLine)) return false;
    return !this.pty || command.split("\n").every((line) => Buffer.byteLength(line) <= MAX_PTY_LINE_BYTES);
  }

  /** Closes an idle standby (its shell exits at end of input); true when there was one. */
  async release(): Promise<boolean> {
    for (let spare = this.spares.pop(); spare; spare = this.spares.pop()) {
      const channel = await spare;
      if (!channel || this.closed.has(channel)) continue;
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
    return false;
  }
}
