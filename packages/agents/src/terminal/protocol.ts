import * as z from "zod/mini";
import "../spec/zod-locale.js";

/**
 * The wire protocol between the terminal page and the worker.
 *
 * Page → worker: text frames holding one JSON message each. The first must
 * be `auth`; `input`, `resize` and `ack` follow.
 * Worker → page: binary frames carry terminal output (UTF-8); text frames
 * carry JSON control messages (`ready`, `exit`).
 */

const size = z.int().check(z.gte(1), z.lte(1000));

export const authMessageSchema = z.object({
  type: z.literal("auth"),
  /** The task's token, read by the page from its URL fragment. */
  token: z.string().check(z.maxLength(512)),
  /** The page's terminal size, so the PTY starts at the right size. */
  cols: z.optional(size),
  rows: z.optional(size),
});

export const clientMessageSchema = z.discriminatedUnion("type", [
  authMessageSchema,
  /** Keystrokes and pastes. Dropped for read-only viewers. */
  z.object({ type: z.literal("input"), data: z.string().check(z.maxLength(1_000_000)) }),
  /** The page's fitted size. Ignored once the PTY has exited. */
  z.object({ type: z.literal("resize"), cols: size, rows: size }),
  /** Characters xterm has written since the last ack (flow control). */
  z.object({ type: z.literal("ack"), chars: z.int().check(z.gte(0), z.lte(Number.MAX_SAFE_INTEGER)) }),
]);

export type ClientMessage = z.infer<typeof clientMessageSchema>;
export type AuthMessage = z.infer<typeof authMessageSchema>;

export type ServerMessage = { type: "ready"; readOnly: boolean } | { type: "exit"; reason: string };

/** Parses one text frame; null for anything that is not a valid message. */
export function parseClientMessage(text: string): ClientMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = z.safeParse(clientMessageSchema, value);
  return parsed.success ? parsed.data : null;
}

/** WebSocket close codes the worker uses. */
export const CloseCode = {
  /** The session ended or the viewer left. */
  normal: 1000,
  /** The task was unpublished or the server is stopping. */
  goingAway: 1001,
  /** Bad or missing token, a message before auth, an auth timeout, a malformed frame. */
  policyViolation: 1008,
  /** The PTY could not be opened. */
  internalError: 1011,
  /** No task is published under this id (the page would have seen a 404). */
  unknownTask: 4404,
} as const;
