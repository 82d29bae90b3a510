import { promises as fs } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { validateProcessId } from "@optio/host";
import * as z from "zod/mini";
import { StateCorruptError, StateNotFoundError, StateWriteError } from "../spec/errors.js";
import { forEachBlock } from "./blob-blocks.js";
import * as rules from "./state-records.js";
import type {
  BlobFiles,
  BlobSource,
  SeedRecord,
  SnapshotRecord,
  StateStore,
  SweepBlobsOptions,
} from "../spec/state-store.js";

/** Where a FileStateStore keeps its records and blobs. */
export interface FileStateStoreOptions {
  /** Root directory; default `$OPTIO_STATE_DIR`, else `$XDG_DATA_HOME/optio/state`, else `~/.local/share/optio/state`. */
  dir?: string;
}

const TEMP_PREFIX = ".tmp-";
const TEMP_NAME = /^\.tmp-(\d+)-/;
// `<capturedAt ms>-<inserted ms>-<sequence>-<id>.json`: name order is capture order, then insertion order.
const SNAPSHOT_NAME = /^(\d{15})-(\d{15})-(\d{9})-([A-Za-z0-9_-]{1,128})\.json$/;
const SEED_NAME = /^([A-Za-z0-9_-]{1,128})\.json$/;
const BLOB_NAME = /^[A-Za-z0-9_-]{1,128}$/;
const WRITE_BLOCK = 64 * 1024;

/** Temp files this process is writing right now, so a cleanup never removes one in flight. */
const inFlight = new Set<string>();
let sequence = 0;

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

function isMissing(error: unknown): boolean {
  const code = errnoCode(error);
  return code === "ENOENT" || code === "ENOTDIR";
}

/** The entries of a directory, none when it does not exist. */
async function namesIn(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === "EPERM";
  }
}

async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await fs.open(dir, "r");
    await handle.sync();
  } catch (error) {
    // Some filesystems cannot fsync a directory; the rename is as durable as they allow.
    const code = errnoCode(error);
    if (code !== "EINVAL" && code !== "ENOTSUP" && code !== "EISDIR" && code !== "EPERM") throw error;
  } finally {
    await handle?.close();
  }
}

async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}

/**
 * A StateStore in a local directory:
 * `blobs/<id>`, `snapshots/<processId>/<capturedAt>-<inserted>-<seq>-<id>.json`, `seeds/<id>.json`.
 * Everything is written to a dot-named temp file, fsynced, renamed into place
 * and the directory fsynced, so a crash leaves the old state or the new one,
 * never half of one. Temp files are skipped on read and removed by the next
 * write to their directory once their writer is gone.
 */
export class FileStateStore implements StateStore, BlobFiles {
  readonly dir: string;

  constructor(options: FileStateStoreOptions = {}) {
    const fromEnv = process.env.OPTIO_STATE_DIR;
    const xdg = process.env.XDG_DATA_HOME;
    this.dir = path.resolve(
      options.dir ??
        (fromEnv
          ? fromEnv
          : xdg
            ? path.join(xdg, "optio", "state")
            : path.join(os.homedir(), ".local", "share", "optio", "state")),
    );
  }

  private blobPath(id: string): string {
    return path.join(this.dir, "blobs", rules.checkStateId(id, "blob id"));
  }

  private snapshotDir(processId: string): string {
    return path.join(this.dir, "snapshots", validateProcessId(processId));
  }

  private seedPath(id: string): string {
    return path.join(this.dir, "seeds", `${rules.checkStateId(id, "seed id")}.json`);
  }

  /** Writes `fill`'s output to `target` atomically; any failure leaves `target` as it was. */
  private async atomicWrite(target: string, fill: (handle: FileHandle) => Promise<void>): Promise<void> {
    const dir = path.dirname(target);
    try {
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new StateWriteError(`cannot create ${dir}: ${describe(error)}`, { cause: error });
    }
    await this.removeStaleTemps(dir);
    const temp = path.join(dir, `${TEMP_PREFIX}${process.pid}-${rules.newStateId()}`);
    inFlight.add(temp);
    try {
      let handle: FileHandle | undefined;
      try {
        handle = await fs.open(temp, "wx", 0o600);
        await fill(handle);
        await handle.sync();
      } finally {
        await handle?.close();
      }
      await fs.rename(temp, target);
      await syncDir(dir);
    } catch (error) {
      await fs.rm(temp, { force: true }).catch(() => {});
      throw new StateWriteError(`cannot write ${target}: ${describe(error)}`, { cause: error });
    } finally {
      inFlight.delete(temp);
    }
  }

  private async removeStaleTemps(dir: string): Promise<void> {
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const match = TEMP_NAME.exec(name);
      if (!match) continue;
      const full = path.join(dir, name);
      const pid = Number(match[1]);
      const busy = pid === process.pid ? inFlight.has(full) : processAlive(pid);
      if (!busy) await fs.rm(full, { force: true }).catch(() => {});
    }
  }

  private async removeFile(target: string): Promise<boolean> {
    try {
      await fs.unlink(target);
    } catch (error) {
      if (isMissing(error)) return false;
      throw new StateWriteError(`cannot remove ${target}: ${describe(error)}`, { cause: error });
    }
    try {
      await syncDir(path.dirname(target));
    } catch (error) {
      throw new StateWriteError(`cannot sync ${path.dirname(target)}: ${describe(error)}`, { cause: error });
    }
    return true;
  }

  private async readRecord<T>(file: string, schema: z.core.$ZodType<T>): Promise<T | null> {
    let text: string;
    try {
      text = await fs.readFile(file, "utf8");
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new StateCorruptError(`${file} is not valid JSON`, { cause: error });
    }
    const result = z.safeParse(schema, value);
    if (!result.success)
      throw new StateCorruptError(`${file} is not a valid record: ${result.error.issues[0]?.message ?? "invalid"}`);
    return result.data;
  }

  private async writeRecord(target: string, record: unknown): Promise<void> {
    const bytes = Buffer.from(`${JSON.stringify(record, null, 2)}\n`, "utf8");
    await this.atomicWrite(target, (handle) => writeAll(handle, bytes));
  }

  async putBlob(data: BlobSource): Promise<string> {
    try {
      return await this.putBlobFile((handle) => forEachBlock(data, WRITE_BLOCK, (block) => writeAll(handle, block)));
    } catch (error) {
      if (data instanceof Readable) data.destroy();
      throw error;
    }
  }

  async putBlobFile(fill: (file: FileHandle) => Promise<void>): Promise<string> {
    const id = rules.newStateId();
    await this.atomicWrite(this.blobPath(id), fill);
    return id;
  }

  async getBlob(id: string): Promise<Readable> {
    // Reading through the open handle keeps the stream valid even if the blob is deleted meanwhile.
    return (await this.openBlobFile(id)).createReadStream();
  }

  async openBlobFile(id: string): Promise<FileHandle> {
    try {
      return await fs.open(this.blobPath(id), "r");
    } catch (error) {
      if (isMissing(error)) throw new StateNotFoundError(`no blob with id ${id}`, { cause: error });
      throw error;
    }
  }

  async deleteBlob(id: string): Promise<void> {
    await this.removeFile(this.blobPath(id));
  }

  async sweepBlobs(options?: SweepBlobsOptions): Promise<string[]> {
    const { graceMs } = rules.checkSweepOptions(options);
    // Candidates are taken before the records are read: a record inserted meanwhile can only name a blob younger
    // than the grace, which is not a candidate.
    const blobsDir = path.join(this.dir, "blobs");
    const now = Date.now();
    const candidates: string[] = [];
    for (const name of await namesIn(blobsDir)) {
      if (!BLOB_NAME.test(name)) continue;
      const stats = await fs.stat(path.join(blobsDir, name)).catch((error: unknown) => {
        if (isMissing(error)) return null;
        throw error;
      });
      if (stats?.isFile() && now - stats.mtimeMs >= graceMs) candidates.push(name);
    }
    if (candidates.length === 0) return [];
    const referenced = new Set<string>();
    const snapshotsDir = path.join(this.dir, "snapshots");
    for (const processDir of await namesIn(snapshotsDir)) {
      for (const name of await namesIn(path.join(snapshotsDir, processDir))) {
        if (!SNAPSHOT_NAME.test(name)) continue;
        const record = await this.readRecord(path.join(snapshotsDir, processDir, name), rules.snapshotRecordSchema);
        if (record) referenced.add(record.workdirBlobId).add(record.privateBlobId);
      }
    }
    for (const seed of await this.listSeeds()) referenced.add(seed.blobId);
    const deleted: string[] = [];
    for (const id of candidates) {
      if (!referenced.has(id) && (await this.removeFile(this.blobPath(id)))) deleted.push(id);
    }
    return deleted;
  }

  async insertSnapshot(record: Omit<SnapshotRecord, "id">): Promise<SnapshotRecord> {
    const input = rules.checkSnapshotInput(record);
    const dir = this.snapshotDir(input.processId);
    const id = rules.newStateId();
    const stored: SnapshotRecord = { id, ...input };
    const name = `${pad(Date.parse(input.capturedAt), 15)}-${pad(Date.now(), 15)}-${pad(sequence++ % 1e9, 9)}-${id}.json`;
    await this.writeRecord(path.join(dir, name), stored);
    return stored;
  }

  /** Snapshot file names of processId, newest first. */
  private async snapshotNames(processId: string): Promise<string[]> {
    const dir = this.snapshotDir(processId);
    const names = await namesIn(dir);
    return names
      .filter((name) => SNAPSHOT_NAME.test(name))
      .sort()
      .reverse();
  }

  async latestSnapshot(processId: string): Promise<SnapshotRecord | null> {
    const dir = this.snapshotDir(processId);
    for (const name of await this.snapshotNames(processId)) {
      const record = await this.readRecord(path.join(dir, name), rules.snapshotRecordSchema);
      if (record) return record;
    }
    return null;
  }

  async listSnapshots(processId: string): Promise<SnapshotRecord[]> {
    const dir = this.snapshotDir(processId);
    const records: SnapshotRecord[] = [];
    for (const name of await this.snapshotNames(processId)) {
      const record = await this.readRecord(path.join(dir, name), rules.snapshotRecordSchema);
      if (record) records.push(record);
    }
    return records;
  }

  async pruneSnapshots(processId: string, keep: number): Promise<SnapshotRecord[]> {
    rules.checkKeepCount(keep);
    const dir = this.snapshotDir(processId);
    const removed: SnapshotRecord[] = [];
    for (const name of (await this.snapshotNames(processId)).slice(keep)) {
      const file = path.join(dir, name);
      const record = await this.readRecord(file, rules.snapshotRecordSchema);
      if (record && (await this.removeFile(file))) removed.push(record);
    }
    return removed;
  }

  async insertSeed(record: Omit<SeedRecord, "id">): Promise<SeedRecord> {
    const input = rules.checkSeedInput(record);
    const stored: SeedRecord = { id: rules.newStateId(), ...input };
    await this.writeRecord(this.seedPath(stored.id), stored);
    return stored;
  }

  async getSeed(id: string): Promise<SeedRecord | null> {
    return this.readRecord(this.seedPath(id), rules.seedRecordSchema);
  }

  async listSeeds(filter: { agent?: string } = {}): Promise<SeedRecord[]> {
    const dir = path.join(this.dir, "seeds");
    const names = await namesIn(dir);
    const records: SeedRecord[] = [];
    for (const name of names) {
      if (!SEED_NAME.test(name)) continue;
      const record = await this.readRecord(path.join(dir, name), rules.seedRecordSchema);
      if (record && (filter.agent === undefined || record.agent === filter.agent)) records.push(record);
    }
    return records.sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.id < b.id ? -1 : 1));
  }

  async deleteSeed(id: string): Promise<SeedRecord | null> {
    const file = this.seedPath(id);
    const record = await this.readRecord(file, rules.seedRecordSchema);
    if (!record) return null;
    return (await this.removeFile(file)) ? record : null;
  }
}
