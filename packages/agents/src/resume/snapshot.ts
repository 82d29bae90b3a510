import { DEFAULT_ARCHIVE_EXCLUDES, type Host, type RestoreOptions } from "@optio/host";
import type { ResumeSpec } from "../spec/agent-adapter.js";
import type { BlobTransform } from "../spec/config.js";
import { hasBlobFiles, type SnapshotEndState, type SnapshotRecord, type StateStore } from "../spec/state-store.js";
import { readAllBytes, safeRelativePath } from "./blob-bytes.js";
import { excludedBy, findOutsideLinks, literalExclude, type OutsideLink } from "./outside-links.js";
import { listUnder } from "./private-listing.js";
import {
  listingRoots,
  parsePrivatePaths,
  type PrivatePatterns,
  replacedOnRestore,
  selectPrivate,
} from "./private-patterns.js";
import { DecryptMissingError, SnapshotDecryptError, SnapshotError, SnapshotRestoreError } from "./resume-errors.js";

/** How many snapshots of one processId are kept by default. */
export const DEFAULT_SNAPSHOT_KEEP = 5;

/** The parts of a ResumeSpec that decide what goes where in a snapshot. */
export type SnapshotPaths = Pick<ResumeSpec, "privatePaths" | "regenerablePaths">;

export interface CaptureSnapshotOptions {
  host: Host;
  store: StateStore;
  /** The adapter id, e.g. "claudecode". */
  agent: string;
  processId: string;
  endState: SnapshotEndState;
  resume: SnapshotPaths;
  /** `config.workdirExclude`: replaces the host's default excludes when given. */
  exclude?: readonly string[];
  /** `config.sessionBlobEncrypt`: applied to the private blob. */
  encrypt?: BlobTransform;
  /** Told of each symlink left out because a restore would refuse it (absolute, or leading out of the workdir). */
  onLinkLeftOut?: (link: OutsideLink) => void;
}

const isUnder = (path: string, dirs: readonly string[]) =>
  dirs.some((dir) => path === dir || path.startsWith(`${dir}/`));

function checkedPaths(paths: readonly string[] | undefined, what: string): string[] {
  return (paths ?? []).map((p) => safeRelativePath(p, what));
}

/** What the private blob takes: the plain private paths as they are, or what the patterns pick from a listing on the host. */
async function privateSelection(host: Host, patterns: PrivatePatterns): Promise<string[]> {
  if (patterns.literal) return [...patterns.include];
  return selectPrivate(patterns, await listUnder(host, listingRoots(patterns)));
}

/**
 * Saves the workdir so a later session can continue it: the adapter's
 * private paths go into their own (optionally encrypted) blob, the rest of
 * the workdir minus excludes and regenerable paths is streamed into a second
 * blob, and only when both are complete is the record inserted. Private
 * paths may be patterns (see ResumeSpec): they are matched against a listing
 * made on the host, and what a `!` pattern leaves out stays with the workdir.
 * Regenerable paths are left out of the private blob too. A symlink the restore would
 * refuse is left out of both and reported through `onLinkLeftOut` (an
 * adapter whose agent makes such links declares their place regenerable).
 *
 * Call it only once the agent's whole process tree is gone: a process still
 * exiting can be mid-write, and the private paths are removed from the
 * workdir as part of the capture.
 *
 * On failure the blobs already written are deleted and a SnapshotError is
 * thrown; the previous snapshot stays the latest.
 */
export async function captureSnapshot(options: CaptureSnapshotOptions): Promise<SnapshotRecord> {
  const { host, store, agent, processId, endState, encrypt } = options;
  const patterns = parsePrivatePaths(options.resume.privatePaths);
  const regenerablePaths = checkedPaths(options.resume.regenerablePaths, "regenerable path");
  const written: string[] = [];
  let step = "listing the private paths";
  try {
    const privatePaths = await privateSelection(host, patterns);
    step = "listing the workdir's symlinks";
    const workdirExcludes = [...(options.exclude ?? DEFAULT_ARCHIVE_EXCLUDES), ...regenerablePaths];
    // Only links an archive would take: the private blob leaves out the regenerable paths, the workdir blob its excludes too.
    const archived = (path: string) =>
      !excludedBy(path, isUnder(path, privatePaths) ? regenerablePaths : workdirExcludes);
    const outside = (await findOutsideLinks(host)).filter((link) => archived(link.path));
    for (const link of outside) options.onLinkLeftOut?.(link);
    // Unanchored like every exclude: the link's path also matches the same path deeper down, a loss a resume survives.
    const linkExcludes = outside.map((link) => literalExclude(link.path));

    step = "archiving the private paths";
    let privateBytes: Uint8Array = await readAllBytes(
      host.archiveWorkdir({ include: privatePaths, exclude: [...regenerablePaths, ...linkExcludes] }),
    );
    if (encrypt) {
      step = "encrypting the private blob";
      privateBytes = await encrypt(privateBytes);
      if (!(privateBytes instanceof Uint8Array)) throw new TypeError("sessionBlobEncrypt must return a Uint8Array");
    }
    step = "storing the private blob";
    const privateBlobId = await store.putBlob(privateBytes);
    written.push(privateBlobId);

    step = "removing the private paths from the workdir";
    for (const path of privatePaths) await host.remove(path);

    step = "archiving the workdir";
    const exclude = [...workdirExcludes, ...privatePaths.map(literalExclude), ...linkExcludes];
    const workdirBlobId = await storeWorkdirArchive(host, store, exclude);
    written.push(workdirBlobId);

    step = "recording the snapshot";
    return await store.insertSnapshot({
      processId,
      agent,
      capturedAt: new Date().toISOString(),
      endState,
      workdirBlobId,
      privateBlobId,
      encrypted: Boolean(encrypt),
    });
  } catch (error) {
    const leftovers: string[] = [];
    for (const id of written) {
      await store.deleteBlob(id).catch(() => leftovers.push(id));
    }
    const note = leftovers.length > 0 ? ` (could not delete blobs ${leftovers.join(", ")})` : "";
    throw new SnapshotError(`snapshot of ${processId} failed while ${step}${note}`, { cause: error });
  }
}

export interface RestoreSnapshotOptions {
  host: Host;
  store: StateStore;
  record: SnapshotRecord;
  resume: SnapshotPaths;
  /** `config.sessionBlobDecrypt`: required when the record is encrypted. */
  decrypt?: BlobTransform;
  /** The caps of each archive's restore (`config.restoreMaxBytes`, `config.restoreMaxEntries`). */
  limits?: Pick<RestoreOptions, "maxBytes" | "maxEntries">;
}

/**
 * Puts a snapshot back: the workdir blob replaces the workdir's contents,
 * with the decrypted private blob laid over it (its paths replaced) in the
 * same staging tree, checked as one tree before it is swapped in. The
 * private blob is fetched and decrypted first, so a wrong key fails before
 * the workdir is touched. Every failure is typed (DecryptMissingError,
 * SnapshotDecryptError, SnapshotRestoreError); the caller must fail the
 * task rather than fall back to a fresh start. Unsafe archive entries, and
 * links that leave the combined tree, are refused by the host's restore
 * and leave the workdir as it was.
 */
export async function restoreSnapshot(options: RestoreSnapshotOptions): Promise<void> {
  const { host, store, record, decrypt } = options;
  const replaces = replacedOnRestore(parsePrivatePaths(options.resume.privatePaths));
  if (record.encrypted && !decrypt) {
    throw new DecryptMissingError(`snapshot ${record.id} is encrypted but no sessionBlobDecrypt was given`);
  }

  let privateBytes: Uint8Array;
  try {
    privateBytes = await readAllBytes(await store.getBlob(record.privateBlobId));
  } catch (error) {
    throw new SnapshotRestoreError(`reading the private blob of snapshot ${record.id} failed`, { cause: error });
  }
  if (record.encrypted && decrypt) {
    try {
      privateBytes = await decrypt(privateBytes);
    } catch (error) {
      throw new SnapshotDecryptError(`decrypting the private blob of snapshot ${record.id} failed`, { cause: error });
    }
    if (!(privateBytes instanceof Uint8Array)) {
      throw new SnapshotDecryptError(
        `sessionBlobDecrypt returned something other than bytes for snapshot ${record.id}`,
      );
    }
  }

  const restore: RestoreOptions = {
    ...options.limits,
    clear: true,
    overlay: { archive: privateBytes, replaces },
  };
  try {
    await restoreWorkdirArchive(host, store, record.workdirBlobId, restore);
  } catch (error) {
    throw new SnapshotRestoreError(`restoring snapshot ${record.id} failed`, { cause: error });
  }
}

/** The workdir's archive into a new blob: straight into the store's file when it has one, else streamed. */
async function storeWorkdirArchive(host: Host, store: StateStore, exclude: readonly string[]): Promise<string> {
  if (hasBlobFiles(store)) return store.putBlobFile((file) => host.archiveWorkdirToFile(file, { exclude }));
  const archive = host.archiveWorkdir({ exclude });
  try {
    return await store.putBlob(archive);
  } finally {
    // A store that gave up early leaves the archiver blocked on a full pipe.
    if (!archive.readableEnded) archive.destroy();
  }
}

/** The workdir blob (and the options' overlay) in place of the workdir, from the store's file when it has one. */
async function restoreWorkdirArchive(
  host: Host,
  store: StateStore,
  blobId: string,
  options: RestoreOptions,
): Promise<void> {
  if (!hasBlobFiles(store)) {
    await host.restoreWorkdir(await store.getBlob(blobId), options);
    return;
  }
  const file = await store.openBlobFile(blobId);
  try {
    await host.restoreWorkdirFromFile(file, options);
  } finally {
    await file.close();
  }
}

/**
 * Keeps the newest `keep` snapshots of `processId` and deletes the others'
 * records and blobs. Every blob is attempted; a failure is thrown afterwards
 * as a SnapshotError. Returns the removed records.
 */
export async function pruneSnapshots(
  store: StateStore,
  processId: string,
  keep = DEFAULT_SNAPSHOT_KEEP,
): Promise<SnapshotRecord[]> {
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`keep must be a positive integer: ${keep}`);
  const removed = await store.pruneSnapshots(processId, keep);
  const failures: unknown[] = [];
  for (const record of removed) {
    for (const id of [record.workdirBlobId, record.privateBlobId]) {
      await store.deleteBlob(id).catch((error: unknown) => failures.push(error));
    }
  }
  if (failures.length > 0) {
    throw new SnapshotError(`pruning the snapshots of ${processId}: ${failures.length} blob(s) could not be deleted`, {
      cause: failures.length === 1 ? failures[0] : new AggregateError(failures),
    });
  }
  return removed;
}
