import type { SeedRecord, SnapshotRecord } from "@optio/agents";

/** A snapshot record's fields, each stored in the column of its snake_case name. */
export const SNAPSHOT_FIELDS = [
  "id",
  "processId",
  "agent",
  "capturedAt",
  "endState",
  "workdirBlobId",
  "privateBlobId",
  "encrypted",
] as const satisfies readonly (keyof SnapshotRecord)[];

/** A seed record's fields, stored the same way. */
export const SEED_FIELDS = [
  "id",
  "agent",
  "createdAt",
  "blobId",
  "encrypted",
  "sourceProcessId",
] as const satisfies readonly (keyof SeedRecord)[];

/** `capturedAt` → `captured_at`: the column a record field is stored in. */
export function columnOf(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The columns of `fields`, for a SELECT or RETURNING list. */
export function columnList(fields: readonly string[]): string {
  return fields.map(columnOf).join(", ");
}

/** The record of `fields` read from a row holding their columns (and maybe others, left out). */
export function recordOf<R>(fields: readonly (keyof R & string)[], row: Record<string, unknown>): R {
  return Object.fromEntries(fields.map((field) => [field, row[columnOf(field)]])) as R;
}
