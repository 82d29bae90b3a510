import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { validateProcessId } from "@optio/host";
import * as z from "zod/mini";
import { InvalidStateIdError, InvalidStateRecordError, StateCorruptError, StateNotFoundError, StateWriteError } from "../errors.js";
import type { BlobFiles, BlobSource, SeedRecord, SnapshotRecord, StateStore } from "./state-store.js";
import "../zod-locale.js";

export interface FileStateStoreOptions {
  /** Root directory; default `$OPTIO_STATE_DIR`, else `$XDG_DATA_HOME/optio/state`, else `~/.local/share/optio/state`. */
  dir?: string;
}

const ID = /^[A-Za-z0-9_-]{1,128}$/;
const TEMP_PREFIX = ".tmp-";
const TEMP_NAME = /^\.tmp-(\d+)-/;
// `<capturedAt ms>-<inserted ms>-<sequence>-<id>.json`: name order is capture order, then insertion order.
const SNAPSHOT_NAME = /^(\d{15})-(\d{15})-(\d{9})-([A-Za-z0-9_-]{1,128})\.json$/;
const SEED_NAME = /^([A-Za-z0-9_-]{1,128})\.json$/;
const WRITE_BLOCK = 64 * 1024;

/** Temp files this process is writing right now, so a cleanup never removes one in flight. */
const inFlight = new Set<string>();
let sequence = 0;

const idSchema = z.string().check(z.regex(ID, "must match [A-Za-z0-9_-]+"));
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
const snapshotRecord = z.extend(snapshotInput, { id: idSchema });

const seedInput = z.object({
  agent: z.string().check(z.minLength(1)),
  createdAt: isoDate,
  blobId: idSchema,
  encrypted: z.boolean(),
  sourceProcessId: z.string(),
});
const seedRecord = z.extend(seedInput, { id: idSchema });

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

function isMissing(error: unknown): boolean {
  const code = errnoCode(error);
  return code === "ENOENT" || code === "ENOTDIR";
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function newId(): string {
  return randomBytes(16).toString("hex");
}

function checkId(id: string, what: string): string {
  if (typeof id !== "string" || !ID.test(id)) throw new InvalidStateIdError(`${what} must match [A-Za-z0-9_-]+: ${JSON.stringify(id)}`);
  return id;
}

function checkRecord<T>(schema: z.core.$ZodType<T>, value: unknown, what: string): T {
  const result = z.safeParse(schema, value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new InvalidStateRecordError(`${what}.${issue?.path.join(".") ?? "?"}: ${issue?.message ?? "invalid"}`);
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

function asChunk(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === "string") return Buffer.from(chunk, "utf8");
  throw new TypeError(`a blob source yielded ${typeof chunk}, not bytes`);
}

/**
 * Writes `source` through one reused block, a write per full block rather
 * than per chunk. Archive streams yield 4 KB chunks; writing each on its own
 * made capturing a 200 MB workdir slower and its peak RSS ~9 MB higher.
 */
async function writeInBlocks(handle: FileHandle, source: AsyncIterable<unknown> | Iterable<unknown>): Promise<void> {
  const block = Buffer.allocUnsafe(WRITE_BLOCK);
  let used = 0;
  for await (const item of source) {
    const chunk = asChunk(item);
    if (chunk.byteLength >= WRITE_BLOCK) {
      if (used > 0) await writeAll(handle, block.subarray(0, used));
      used = 0;
      await writeAll(handle, chunk);
      continue;
    }
    const head = Math.min(WRITE_BLOCK - used, chunk.byteLength);
    block.set(chunk.subarray(0, head), used);
    used += head;
    if (used < WRITE_BLOCK) continue;
    await writeAll(handle, block);
    block.set(chunk.subarray(head));
    used = chunk.byteLength - head;
  }
  if (used > 0) await writeAll(handle, block.subarray(0, used));
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
      options.dir ?? (fromEnv ? fromEnv : xdg ? path.join(xdg, "optio", "state") : path.join(os.homedir(), ".local", "share", "optio", "state")),
    );
  }

  private blobPath(id: string): string {
    return path.join(this.dir, "blobs", checkId(id, "blob id"));
  }

  private snapshotDir(processId: string): string {
    return path.join(this.dir, "snapshots", validateProcessId(processId));
  }

  private seedPath(id: string): string {
    return path.join(this.dir, "seeds", `${checkId(id, "seed id")}.json`);
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
    const temp = path.join(dir, `${TEMP_PREFIX}${process.pid}-${newId()}`);
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
    if (!result.success) throw new StateCorruptError(`${file} is not a valid record: ${result.error.issues[0]?.message ?? "invalid"}`);
    return result.data;
  }

  private async writeRecord(target: string, record: unknown): Promise<void> {
    const bytes = Buffer.from(`${JSON.stringify(record, null, 2)}\n`, "utf8");
    await this.atomicWrite(target, (handle) => writeAll(handle, bytes));
  }

  async putBlob(data: BlobSource): Promise<string> {
    const source: AsyncIterable<unknown> | Iterable<unknown> = data instanceof Uint8Array ? [data] : data;
    try {
      return await this.putBlobFile((handle) => writeInBlocks(handle, source));
    } catch (error) {
      if (data instanceof Readable) data.destroy();
      throw error;
    }
  }

  async putBlobFile(fill: (file: FileHandle) => Promise<void>): Promise<string> {
    const id = newId();
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

  async insertSnapshot(record: Omit<SnapshotRecord, "id">): Promise<SnapshotRecord> {
    const input = checkRecord(snapshotInput, record, "snapshot");
    const dir = this.snapshotDir(input.processId);
    const id = newId();
    const stored: SnapshotRecord = { id, ...input };
    const name = `${pad(Date.parse(input.capturedAt), 15)}-${pad(Date.now(), 15)}-${pad(sequence++ % 1e9, 9)}-${id}.json`;
    await this.writeRecord(path.join(dir, name), stored);
    return stored;
  }

  /** Snapshot file names of processId, newest first. */
  private async snapshotNames(processId: string): Promise<string[]> {
    const dir = this.snapshotDir(processId);
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
    return names.filter((name) => SNAPSHOT_NAME.test(name)).sort().reverse();
  }

  async latestSnapshot(processId: string): Promise<SnapshotRecord | null> {
    const dir = this.snapshotDir(processId);
    for (const name of await this.snapshotNames(processId)) {
      const record = await this.readRecord(path.join(dir, name), snapshotRecord);
      if (record) return record;
    }
    return null;
  }

  async listSnapshots(processId: string): Promise<SnapshotRecord[]> {
    const dir = this.snapshotDir(processId);
    const records: SnapshotRecord[] = [];
    for (const name of await this.snapshotNames(processId)) {
      const record = await this.readRecord(path.join(dir, name), snapshotRecord);
      if (record) records.push(record);
    }
    return records;
  }

  async pruneSnapshots(processId: string, keep: number): Promise<SnapshotRecord[]> {
    if (!Number.isInteger(keep) || keep < 0) throw new InvalidStateRecordError(`keep must be a non-negative integer, got ${keep}`);
    const dir = this.snapshotDir(processId);
    const removed: SnapshotRecord[] = [];
    for (const name of (await this.snapshotNames(processId)).slice(keep)) {
      const file = path.join(dir, name);
      const record = await this.readRecord(file, snapshotRecord);
      if (record && (await this.removeFile(file))) removed.push(record);
    }
    return removed;
  }

  async insertSeed(record: Omit<SeedRecord, "id">): Promise<SeedRecord> {
    const input = checkRecord(seedInput, record, "seed");
    const stored: SeedRecord = { id: newId(), ...input };
    await this.writeRecord(this.seedPath(stored.id), stored);
    return stored;
  }

  async getSeed(id: string): Promise<SeedRecord | null> {
    return this.readRecord(this.seedPath(id), seedRecord);
  }

  async listSeeds(filter: { agent?: string } = {}): Promise<SeedRecord[]> {
    const dir = path.join(this.dir, "seeds");
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
    const records: SeedRecord[] = [];
    for (const name of names) {
      if (!SEED_NAME.test(name)) continue;
      const record = await this.readRecord(path.join(dir, name), seedRecord);
      if (record && (filter.agent === undefined || record.agent === filter.agent)) records.push(record);
    }
    return records.sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.id < b.id ? -1 : 1));
  }

  async deleteSeed(id: string): Promise<SeedRecord | null> {
    const file = this.seedPath(id);
    const record = await this.readRecord(file, seedRecord);
    if (!record) return null;
    return (await this.removeFile(file)) ? record : null;
  }
}
