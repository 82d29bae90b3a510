import { optioErrorClass } from "@optio/host";

/** Capturing a snapshot failed; nothing was recorded and the previous snapshot is still the latest. */
export class SnapshotError extends optioErrorClass("snapshot_failed", "SnapshotError") {}
/** Restoring a snapshot failed (missing, truncated or unsafe blob); the task must fail, not start fresh. */
export class SnapshotRestoreError extends optioErrorClass("snapshot_restore_failed", "SnapshotRestoreError") {}
/** The private blob of a snapshot could not be decrypted (wrong key, corrupt data). */
export class SnapshotDecryptError extends optioErrorClass("snapshot_decrypt_failed", "SnapshotDecryptError") {}
/** A blob is recorded as encrypted but no decrypt function was given. */
export class DecryptMissingError extends optioErrorClass("decrypt_missing", "DecryptMissingError") {}
/** No seed has the requested id. */
export class UnknownSeedError extends optioErrorClass("seed_unknown", "UnknownSeedError") {}
/** Capturing or merging a seed failed. */
export class SeedError extends optioErrorClass("seed_failed", "SeedError") {}
/** A seed holds an entry outside the agent's HOME or outside the manifest's include set. */
export class SeedContentError extends optioErrorClass("seed_content_invalid", "SeedContentError") {}
/** A path handed to resume or seed code (a private path, an include path, a rendered file) is not a safe relative path. */
export class ResumePathError extends optioErrorClass("resume_path_invalid", "ResumePathError") {}
