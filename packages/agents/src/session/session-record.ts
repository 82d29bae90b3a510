import { posix } from "node:path";
import type { Host } from "@optio/host";
import * as z from "zod/mini";

/**
 * What a worker keeps in the task dir while its agent runs, so that another
 * worker can adopt the session if this one dies: how the agent was started
 * and how many optio.log lines have been turned into events.
 */
const sessionRecordSchema = z.object({
  /** The agent started fresh (not from a snapshot): a fresh session's end may save a seed. */
  fresh: z.boolean(),
  /** optio.log lines handled so far, counted from line 1; an adopter skips this many. */
  logLines: z.int().check(z.gte(0)),
});

export type SessionRecord = z.infer<typeof sessionRecordSchema>;

const RECORD_FILE = "session.json";

/** Outside the workdir, so a snapshot never carries it. */
export function sessionRecordPath(host: Host): string {
  return posix.join(host.taskDir, RECORD_FILE);
}

/** Replaces the record atomically: a worker killed mid-write leaves the previous one whole. */
export async function writeSessionRecord(host: Host, record: SessionRecord): Promise<void> {
  await host.writeText(sessionRecordPath(host), `${JSON.stringify(record)}\n`, { mode: 0o600 });
}

/** The record a worker left, or null when there is none or it is not one of ours. */
export async function readSessionRecord(host: Host): Promise<SessionRecord | null> {
  const text = await host
    .readFile(sessionRecordPath(host))
    .then((bytes) => bytes.toString("utf8"))
    .catch(() => null);
  if (text === null) return null;
  try {
    const parsed = z.safeParse(sessionRecordSchema, JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
