import type { FileHandle } from "node:fs/promises";
import type { Readable } from "node:stream";

/** How a session ended when its snapshot was taken. */
export type SnapshotEndState = "done" | "failed" | "cancelled";

/** A stored snapshot of one task's session: how it ended, and its blobs. */
export interface SnapshotRecord {
  id: string;
  processId: string;
  /** The adapter id that produced it, e.g. "claudecode". */
  agent: string;
  /** ISO-8601 UTC. */
  capturedAt: string;
  endState: SnapshotEndState;
  /** The workdir minus private paths and excludes, tar.gz. */
  workdirBlobId: string;
  /** The adapter's private paths, tar.gz, encrypted when `encrypted`. */
  privateBlobId: string;
  encrypted: boolean;
}

/** A stored seed: which agent it is for, where it came from, and its blob. */
export interface SeedRecord {
  id: string;
  agent: string;
  /** ISO-8601 UTC. */
  createdAt: string;
  blobId: string;
  encrypted: boolean;
  /** The processId of the session it was captured from. */
  sourceProcessId: string;
}

/** How `sweepBlobs` tells a blob left behind from one whose record is still being written. */
export interface SweepBlobsOptions {
  /**
   * Only blobs stored at least this long ago are deleted, in ms: it must be
   * longer than any writer takes from a blob's write to its record's insert
   * (a snapshot writes two blobs, then its record). Default 24 h.
   */
  graceMs?: number;
}

/** Bytes a store takes as a blob: a stream, an async iterable or a buffer. */
export type BlobSource = Readable | AsyncIterable<Uint8Array> | Uint8Array;

/**
 * Where snapshots and seeds live between processes. Blobs move as streams;
 * a record is visible only once completely written.
 */
export interface StateStore {
  putBlob(data: BlobSource): Promise<string>;
  /** Throws StateNotFoundError for an unknown id. */
  getBlob(id: string): Promise<Readable>;
  /** Missing is fine. */
  deleteBlob(id: string): Promise<void>;
  /**
   * Deletes every blob that no snapshot or seed record refers to and that was
   * stored more than `graceMs` ago, and returns their ids. Such blobs are what
   * a writer killed between a blob and its record leaves behind. Safe to run
   * from several processes at once. Bad options are OptioConfigError.
   */
  sweepBlobs(options?: SweepBlobsOptions): Promise<string[]>;

  insertSnapshot(record: Omit<SnapshotRecord, "id">): Promise<SnapshotRecord>;
  latestSnapshot(processId: string): Promise<SnapshotRecord | null>;
  /** Newest first. */
  listSnapshots(processId: string): Promise<SnapshotRecord[]>;
  /** Keeps the newest `keep` records of processId and returns the removed ones (their blobs stay). */
  pruneSnapshots(processId: string, keep: number): Promise<SnapshotRecord[]>;

  insertSeed(record: Omit<SeedRecord, "id">): Promise<SeedRecord>;
  getSeed(id: string): Promise<SeedRecord | null>;
  /** Newest first; filtered by agent when given. */
  listSeeds(filter?: { agent?: string }): Promise<SeedRecord[]>;
  /** Removes the record and returns it, or null when unknown (its blob stays). */
  deleteSeed(id: string): Promise<SeedRecord | null>;
}

/**
 * What a store whose blobs are files on this machine can add: the host then
 * writes and reads those files itself (a local host through tar), so a
 * snapshot's bytes need not pass through this process.
 */
export interface BlobFiles {
  /** Like putBlob, the bytes written by `fill` into the open, empty file it is given. */
  putBlobFile(fill: (file: FileHandle) => Promise<void>): Promise<string>;
  /** The blob's file, open for reading; the caller closes it. Throws StateNotFoundError for an unknown id. */
  openBlobFile(id: string): Promise<FileHandle>;
}

/** Whether `store` offers BlobFiles. */
export function hasBlobFiles(store: StateStore): store is StateStore & BlobFiles {
  const candidate = store as Partial<BlobFiles>;
  return typeof candidate.putBlobFile === "function" && typeof candidate.openBlobFile === "function";
}
