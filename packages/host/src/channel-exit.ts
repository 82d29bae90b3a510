import type { ClientChannel } from "ssh2";

/** What a channel's "exit" event carried: a code, or null and the signal's name. */
export interface ChannelExit {
  code: number | null;
  signal?: string;
}

const exits = new WeakMap<ClientChannel, ChannelExit>();

/**
 * Starts remembering the channel's exit status; call it in the callback that
 * hands the channel over. A fast command's status can arrive in the same
 * packet as the exec reply, so ssh2 emits "exit" before whoever awaits the
 * channel can listen.
 */
export function recordChannelExit(channel: ClientChannel): void {
  channel.once("exit", (code: number | null, signal?: string) => {
    exits.set(channel, typeof signal === "string" ? { code, signal } : { code });
  });
}

/** Calls `listener` once with the channel's exit status: at once when it came already, else when it comes. */
export function onChannelExit(channel: ClientChannel, listener: (exit: ChannelExit) => void): void {
  const seen = exits.get(channel);
  if (seen) {
    listener(seen);
    return;
  }
  channel.once("exit", (code: number | null, signal?: string) =>
    listener(exits.get(channel) ?? { code, ...(typeof signal === "string" ? { signal } : {}) }),
  );
}
