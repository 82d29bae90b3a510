import { randomBytes } from "node:crypto";
import * as z from "zod/mini";
import { InvalidStateIdError, InvalidStateRecordError } from "../spec/errors.js";
import { OptioConfigError } from "@optio/host";
import type { SeedRecord, SnapshotRecord, SweepBlobsOptions } from "../spec/state-store.js";
import "../spec/zod-locale.js";

/** What every StateStore accepts as a blob, snapshot or seed id: safe as a file name, a URL segment or a key. */
export const STATE_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

const idSchema = z.string().check(z.regex(STATE_ID_PATTERN, "must match [A-Za-z0-9_-]+"));
// Capture times name files as 15 zero-padded digits of epoch ms, so they must fall in [1970, year 33658).
const isoDate = z.string().check(
  z.refine((value) => {
    const ms = Date.parse(value);
    return Number.isFinite(ms) && ms >= 0 && ms < 1e15;
  }, "must be an ISO-8601 date after 1970"),
);

const snapshotInput = z.object({
  processId: z.string(),
  agent: z.string().check(z.minLength(1)),
  capturedAt: isoDate,
  endState: z.enum(["done", "failed", "cancelled"]),
  workdirBlobId: idSchema,
  privateBlobId: idSchema,
  encrypted: z.boolean(),
});
/** A stored snapshot record, as a store reads it back. */
export const snapshotRecordSchema = z.extend(snapshotInput, { id: idSchema });

const seedInput = z.object({
  agent: z.string().check(z.minLength(1)),
  createdAt: isoDate,
  blobId: idSchema,
  encrypted: z.boolean(),
  sourceProcessId: z.string(),
});
/** A stored seed record, as a store reads it back. */
export const seedRecordSchema = z.extend(seedInput, { id: idSchema });

/** A fresh random id matching STATE_ID_PATTERN. */
export function newStateId(): string {
  return randomBytes(16).toString("hex");
}

/** `id` when it matches STATE_ID_PATTERN; InvalidStateIdError naming `what` otherwise. */
export function checkStateId(id: string, what: string): string {
  if (typeof id !== "string" || !STATE_ID_PATTERN.test(id))
    throw new InvalidStateIdError(`${what} must match [A-Za-z0-9_-]+: ${JSON.stringify(id)}`);
  return id;
}

function checkRecord<T>(schema: z.core.$ZodType<T>, value: unknown, what: string): T {
  const result = z.safeParse(schema, value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new InvalidStateRecordError(`${what}.${issue?.path.join(".") ?? "?"}: ${issue?.message ?? "invalid"}`);
}

/** The snapshot record to insert, checked; InvalidStateRecordError names the first bad field. */
export function checkSnapshotInput(record: Omit<SnapshotRecord, "id">): Omit<SnapshotRecord, "id"> {
  return checkRecord(snapshotInput, record, "snapshot");
}

/** The seed record to insert, checked; InvalidStateRecordError names the first bad field. */
export function checkSeedInput(record: Omit<SeedRecord, "id">): Omit<SeedRecord, "id"> {
  return checkRecord(seedInput, record, "seed");
}

/** `keep` for pruneSnapshots, checked. */
export function checkKeepCount(keep: number): number {
  if (!Number.isInteger(keep) || keep < 0)
    throw new InvalidStateRecordError(`keep must be a non-negative integer, got ${keep}`);
  return keep;
}

const sweepOptions = z.object({
  /** Age in ms a blob no record refers to must reach before a sweep deletes it. */
  graceMs: z._default(z.int().check(z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER)), 24 * 60 * 60 * 1000),
});

/** `sweepBlobs`' options with their defaults; OptioConfigError names the first bad field. */
export function checkSweepOptions(options: SweepBlobsOptions = {}): Required<SweepBlobsOptions> {
  const result = z.safeParse(sweepOptions, options);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new OptioConfigError(`sweepBlobs options.${issue?.path.join(".") ?? "?"}: ${issue?.message ?? "invalid"}`);
}
