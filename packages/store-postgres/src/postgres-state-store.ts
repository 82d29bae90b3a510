import { Readable } from "node:stream";
import {
  type BlobSource,
  type SeedRecord,
  type SnapshotRecord,
  type StateStore,
  StateNotFoundError,
  type SweepBlobsOptions,
  StateWriteError,
} from "@optio/agents";
import {
  checkKeepCount,
  checkSeedInput,
  checkSnapshotInput,
  checkStateId,
  checkSweepOptions,
  forEachBlock,
  newStateId,
} from "@optio/agents/store";
import { OptioConfigError, OptioError, validateProcessId } from "@optio/host";
import pg from "pg";
import * as z from "zod/mini";
import { chunkRowHead, COPY_BINARY_HEADER, COPY_BINARY_TRAILER } from "./chunk-rows.js";
import { CopyIn } from "./copy-in.js";
import { StateStoreUnavailableError } from "./errors.js";
import { isConnectionFailure } from "./connection-failure.js";
import { migrate } from "./migrations.js";
import { columnList, recordOf, SEED_FIELDS, SNAPSHOT_FIELDS } from "./record-columns.js";

const optionsSchema = z.object({
  /** `postgres://user:password@host:port/database`; ignored when `pool` is given. */
  connectionString: z.optional(z.string().check(z.minLength(1))),
  /** A pg Pool the caller owns (and ends); the store then opens no connections of its own. */
  pool: z.optional(z.custom<pg.Pool>((value) => value instanceof pg.Pool, "must be a pg Pool")),
  /** The PostgreSQL schema holding the store's tables, created when missing; default `optio`. */
  schema: z.optional(z.string().check(z.regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a lower-case SQL identifier"))),
  /** Bytes per stored chunk of a blob: what one row holds and what a write keeps in memory at once; default 1 MiB. */
  chunkBytes: z.optional(z.number().check(z.int(), z.minimum(1024), z.maximum(64 * 1024 * 1024))),
});

export type PostgresStateStoreOptions = z.infer<typeof optionsSchema>;

const DEFAULT_CHUNK = 1024 * 1024;
const READ_SLICE = 48 * 1024;
function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const SNAPSHOT_COLUMNS = columnList(SNAPSHOT_FIELDS);
const SEED_COLUMNS = columnList(SEED_FIELDS);
const snapshotOf = (row: Record<string, unknown>) => recordOf<SnapshotRecord>(SNAPSHOT_FIELDS, row);
const seedOf = (row: Record<string, unknown>) => recordOf<SeedRecord>(SEED_FIELDS, row);

/**
 * A StateStore in PostgreSQL, for workers on several machines sharing
 * snapshots and seeds. A blob is stored as rows of `chunkBytes` written in
 * one transaction, so a writer that dies leaves nothing visible, and read
 * back in 48 KiB slices of a row, so neither direction holds more than a
 * chunk or two in memory. The tables are created and migrated on first use.
 */
export class PostgresStateStore implements StateStore {
  readonly schema: string;
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly chunkBytes: number;
  private readonly t: { blobs: string; chunks: string; snapshots: string; seeds: string; version: string };
  private migrated: Promise<void> | undefined;
  /** Blobs whose delete met an outage, deleted before anything else once the server answers again. */
  private readonly undeleted = new Set<string>();

  constructor(options: PostgresStateStoreOptions) {
    const parsed = z.safeParse(optionsSchema, options);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new OptioConfigError(
        `PostgresStateStore options.${issue?.path.join(".") ?? "?"}: ${issue?.message ?? "invalid"}`,
      );
    }
    const { connectionString, pool, schema = "optio", chunkBytes = DEFAULT_CHUNK } = parsed.data;
    if (!pool && !connectionString)
      throw new OptioConfigError("PostgresStateStore options.connectionString: required when no pool is given");
    this.schema = schema;
    this.chunkBytes = chunkBytes;
    this.ownsPool = !pool;
    this.pool = pool ?? new pg.Pool({ connectionString, max: 4 });
    // An idle connection the server drops emits an error on the pool; the next query reconnects, so it is not fatal.
    if (this.ownsPool) this.pool.on("error", () => {});
    const q = (name: string) => `"${schema}".${name}`;
    this.t = {
      blobs: q("blobs"),
      chunks: q("blob_chunks"),
      snapshots: q("snapshots"),
      seeds: q("seeds"),
      version: q("schema_version"),
    };
  }

  /** Closes the store's own connections (not a pool handed in). */
  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }

  /** The schema version this store's tables are at, migrating first when needed. */
  async schemaVersion(): Promise<number> {
    const { rows } = await this.query<{ version: number }>(
      "reading the schema version",
      `SELECT max(version) AS version FROM ${this.t.version}`,
    );
    return rows[0]?.version ?? 0;
  }

  /** Runs `work`, turning a lost or refused connection into StateStoreUnavailableError. */
  private async guard<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (OptioError.isInstance(error)) throw error;
      if (isConnectionFailure(error))
        throw new StateStoreUnavailableError(`${what}: PostgreSQL is unavailable: ${describe(error)}`, {
          cause: error,
        });
      throw error;
    }
  }

  private ready(): Promise<void> {
    this.migrated ??= this.guard("migrating the schema", async () => {
      const client = await this.pool.connect();
      try {
        await migrate(client, this.schema);
      } finally {
        client.release();
      }
    }).catch((error: unknown) => {
      this.migrated = undefined;
      throw error;
    });
    return this.migrated;
  }

  /** The schema ready and the deletes an outage held back done: what every statement waits for. */
  private async reachable(): Promise<void> {
    await this.ready();
    if (this.undeleted.size === 0) return;
    const ids = [...this.undeleted];
    await this.guard("deleting blobs whose delete met an outage", () =>
      this.pool.query(`DELETE FROM ${this.t.blobs} WHERE id = ANY($1)`, [ids]),
    );
    for (const id of ids) this.undeleted.delete(id);
  }

  /** Runs one statement; `what` names the operation in a StateStoreUnavailableError. */
  private async query<R extends pg.QueryResultRow>(
    what: string,
    text: string,
    values: unknown[] = [],
  ): Promise<pg.QueryResult<R>> {
    await this.reachable();
    return this.guard(what, () => this.pool.query<R>(text, values));
  }

  async putBlob(data: BlobSource): Promise<string> {
    await this.reachable();
    const id = newStateId();
    try {
      await this.guard("writing a blob", async () => {
        const client = await this.pool.connect();
        // A connection lost mid-write fails the statement in flight; pg also emits it on the client, which the pool
        // listens to only while the client is idle.
        const lost = () => {};
        client.on("error", lost);
        let failed: unknown;
        try {
          await client.query("BEGIN");
          await client.query(`INSERT INTO ${this.t.blobs} (id, size, chunks) VALUES ($1, 0, 0)`, [id]);
          const copy = client.query(
            new CopyIn(`COPY ${this.t.chunks} (blob_id, seq, data) FROM STDIN (FORMAT binary)`),
          );
          const blobId = Buffer.from(id, "utf8");
          let seq = 0;
          let size = 0;
          try {
            await copy.write(COPY_BINARY_HEADER);
            await forEachBlock(data, this.chunkBytes, async (block) => {
              await copy.write(chunkRowHead(blobId, seq++, block.byteLength), block);
              size += block.byteLength;
            });
            await copy.write(COPY_BINARY_TRAILER);
            await copy.end();
          } catch (error) {
            await copy.fail(describe(error));
            throw error;
          }
          await client.query(
            `UPDATE ${this.t.blobs} SET size = $2, chunks = $3, created_at = clock_timestamp() WHERE id = $1`,
            [id, size, seq],
          );
          await client.query("COMMIT");
        } catch (error) {
          failed = error;
          await client.query("ROLLBACK").catch(() => {});
          throw error;
        } finally {
          // A connection whose transaction broke off mid-way is not handed out again.
          client.off("error", lost);
          client.release(failed instanceof Error && isConnectionFailure(failed) ? failed : undefined);
        }
      });
    } catch (error) {
      if (data instanceof Readable) data.destroy();
      if (OptioError.isInstance(error)) throw error;
      throw new StateWriteError(`cannot write blob ${id}: ${describe(error)}`, { cause: error });
    }
    return id;
  }

  async getBlob(id: string): Promise<Readable> {
    checkStateId(id, "blob id");
    const { rows } = await this.query<{ chunks: number }>(
      `reading blob ${id}`,
      `SELECT chunks FROM ${this.t.blobs} WHERE id = $1`,
      [id],
    );
    const head = rows[0];
    if (!head) throw new StateNotFoundError(`no blob with id ${id}`);
    let seq = 0;
    let offset = 0;
    // A row arrives as hex text twice its size; reading it in slices keeps that text small enough to die young in
    // the heap instead of piling up as large objects until a full collection.
    const nextSlice = async (): Promise<Buffer | null> => {
      while (seq < head.chunks) {
        const {
          rows: [row],
        } = await this.query<{ data: Buffer | null }>(
          `reading blob ${id}`,
          `SELECT substring(data FROM $3 FOR $4) AS data FROM ${this.t.chunks} WHERE blob_id = $1 AND seq = $2`,
          [id, seq, offset + 1, READ_SLICE],
        );
        if (!row?.data) throw new StateNotFoundError(`blob ${id} was deleted while it was read`);
        if (row.data.byteLength < READ_SLICE) [seq, offset] = [seq + 1, 0];
        else offset += READ_SLICE;
        if (row.data.byteLength > 0) return row.data;
      }
      return null;
    };
    const stream: Readable = new Readable({
      highWaterMark: READ_SLICE,
      read: () => {
        nextSlice().then(
          (slice) => stream.push(slice),
          (error: unknown) => stream.destroy(error as Error),
        );
      },
    });
    return stream;
  }

  /**
   * Deletes a blob. One the outage kept from being deleted (most often a
   * blob whose snapshot or seed record the same outage refused, deleted by
   * the write that made it) still fails with StateStoreUnavailableError, and
   * is deleted once the server answers this store again.
   */
  async deleteBlob(id: string): Promise<void> {
    checkStateId(id, "blob id");
    try {
      await this.query(`deleting blob ${id}`, `DELETE FROM ${this.t.blobs} WHERE id = $1`, [id]);
    } catch (error) {
      if (StateStoreUnavailableError.isInstance(error)) this.undeleted.add(id);
      throw error;
    }
  }

  // A blob's age counts from the end of its write, on the server's clock: a long write or a worker's clock cannot
  // make it look older.
  async sweepBlobs(options?: SweepBlobsOptions): Promise<string[]> {
    const { graceMs } = checkSweepOptions(options);
    const { snapshots, seeds } = this.t;
    const { rows } = await this.query<{ id: string }>(
      "sweeping blobs no record refers to",
      `DELETE FROM ${this.t.blobs} WHERE created_at <= now() - $1::double precision * interval '1 millisecond' AND id NOT IN (
         SELECT workdir_blob_id FROM ${snapshots} UNION ALL SELECT private_blob_id FROM ${snapshots} UNION ALL SELECT blob_id FROM ${seeds}
       ) RETURNING id`,
      [graceMs],
    );
    return rows.map((row) => row.id).sort();
  }

  async insertSnapshot(record: Omit<SnapshotRecord, "id">): Promise<SnapshotRecord> {
    const input = checkSnapshotInput(record);
    validateProcessId(input.processId);
    const stored: SnapshotRecord = { id: newStateId(), ...input };
    await this.query(
      `inserting a snapshot of ${stored.processId}`,
      `INSERT INTO ${this.t.snapshots} (id, process_id, agent, captured_at, captured_ms, end_state, workdir_blob_id, private_blob_id, encrypted)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        stored.id,
        stored.processId,
        stored.agent,
        stored.capturedAt,
        Date.parse(stored.capturedAt),
        stored.endState,
        stored.workdirBlobId,
        stored.privateBlobId,
        stored.encrypted,
      ],
    );
    return stored;
  }

  async latestSnapshot(processId: string): Promise<SnapshotRecord | null> {
    const [latest] = await this.snapshots(processId, "LIMIT 1");
    return latest ?? null;
  }

  async listSnapshots(processId: string): Promise<SnapshotRecord[]> {
    return this.snapshots(processId, "");
  }

  private async snapshots(processId: string, tail: string): Promise<SnapshotRecord[]> {
    validateProcessId(processId);
    const { rows } = await this.query(
      `reading the snapshots of ${processId}`,
      `SELECT ${SNAPSHOT_COLUMNS} FROM ${this.t.snapshots} WHERE process_id = $1 ORDER BY captured_ms DESC, inserted DESC ${tail}`,
      [processId],
    );
    return rows.map(snapshotOf);
  }

  async pruneSnapshots(processId: string, keep: number): Promise<SnapshotRecord[]> {
    checkKeepCount(keep);
    validateProcessId(processId);
    const { rows } = await this.query<{ captured_ms: string; inserted: string }>(
      `pruning the snapshots of ${processId}`,
      `DELETE FROM ${this.t.snapshots} WHERE id IN (
         SELECT id FROM ${this.t.snapshots} WHERE process_id = $1 ORDER BY captured_ms DESC, inserted DESC OFFSET $2
       ) RETURNING ${SNAPSHOT_COLUMNS}, captured_ms, inserted`,
      [processId, keep],
    );
    rows.sort((a, b) => Number(b.captured_ms) - Number(a.captured_ms) || Number(b.inserted) - Number(a.inserted));
    return rows.map(snapshotOf);
  }

  async insertSeed(record: Omit<SeedRecord, "id">): Promise<SeedRecord> {
    const input = checkSeedInput(record);
    const stored: SeedRecord = { id: newStateId(), ...input };
    await this.query(
      "inserting a seed",
      `INSERT INTO ${this.t.seeds} (id, agent, created_at, created_ms, blob_id, encrypted, source_process_id) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        stored.id,
        stored.agent,
        stored.createdAt,
        Date.parse(stored.createdAt),
        stored.blobId,
        stored.encrypted,
        stored.sourceProcessId,
      ],
    );
    return stored;
  }

  async getSeed(id: string): Promise<SeedRecord | null> {
    checkStateId(id, "seed id");
    const { rows } = await this.query(
      `reading seed ${id}`,
      `SELECT ${SEED_COLUMNS} FROM ${this.t.seeds} WHERE id = $1`,
      [id],
    );
    return rows[0] ? seedOf(rows[0]) : null;
  }

  async listSeeds(filter: { agent?: string } = {}): Promise<SeedRecord[]> {
    const { rows } = await this.query(
      "listing seeds",
      `SELECT ${SEED_COLUMNS} FROM ${this.t.seeds} WHERE $1::text IS NULL OR agent = $1 ORDER BY created_ms DESC, id ASC`,
      [filter.agent ?? null],
    );
    return rows.map(seedOf);
  }

  async deleteSeed(id: string): Promise<SeedRecord | null> {
    checkStateId(id, "seed id");
    const { rows } = await this.query(
      `deleting seed ${id}`,
      `DELETE FROM ${this.t.seeds} WHERE id = $1 RETURNING ${SEED_COLUMNS}`,
      [id],
    );
    return rows[0] ? seedOf(rows[0]) : null;
  }

  /** Every blob id, sorted: for tests and tidy-up tools. */
  async listBlobIds(): Promise<string[]> {
    const { rows } = await this.query<{ id: string }>("listing blobs", `SELECT id FROM ${this.t.blobs} ORDER BY id`);
    return rows.map((row) => row.id);
  }
}
