import type pg from "pg";
import { StateStoreSchemaError } from "./errors.js";

/**
 * The schema, one step per version; a released step never changes, a new
 * one is appended. Blob chunks are stored uncompressed (`STORAGE EXTERNAL`):
 * snapshots are gzip or ciphertext already, and compressing them again only
 * costs time.
 */
export const MIGRATIONS: ReadonlyArray<(schema: string) => string> = [
  (s) => `
    CREATE TABLE ${s}.blobs (
      id text PRIMARY KEY,
      size bigint NOT NULL,
      chunks integer NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE ${s}.blob_chunks (
      blob_id text NOT NULL REFERENCES ${s}.blobs (id) ON DELETE CASCADE,
      seq integer NOT NULL,
      data bytea NOT NULL,
      PRIMARY KEY (blob_id, seq)
    );
    ALTER TABLE ${s}.blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
    CREATE TABLE ${s}.snapshots (
      id text PRIMARY KEY,
      process_id text NOT NULL,
      agent text NOT NULL,
      captured_at text NOT NULL,
      captured_ms bigint NOT NULL,
      inserted bigserial NOT NULL,
      end_state text NOT NULL,
      workdir_blob_id text NOT NULL,
      private_blob_id text NOT NULL,
      encrypted boolean NOT NULL
    );
    CREATE INDEX snapshots_by_process ON ${s}.snapshots (process_id, captured_ms DESC, inserted DESC);
    CREATE TABLE ${s}.seeds (
      id text PRIMARY KEY,
      agent text NOT NULL,
      created_at text NOT NULL,
      created_ms bigint NOT NULL,
      blob_id text NOT NULL,
      encrypted boolean NOT NULL,
      source_process_id text NOT NULL
    );
    CREATE INDEX seeds_by_agent ON ${s}.seeds (agent, created_ms DESC);
  `,
];

/**
 * Brings `schema` to the newest version. Every store runs this on first use;
 * an advisory lock per schema makes concurrent first starts take turns, and
 * the schema_version table (one row per applied step) makes later ones no-ops.
 */
export async function migrate(client: pg.ClientBase, schemaName: string): Promise<void> {
  const s = `"${schemaName}"`;
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`optio-store-postgres:${schemaName}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ version: number | null }>(
      `SELECT max(version) AS version FROM ${s}.schema_version`,
    );
    const current = rows[0]?.version ?? 0;
    if (current > MIGRATIONS.length) {
      throw new StateStoreSchemaError(
        `schema ${schemaName} is at version ${current}, newer than this package's ${MIGRATIONS.length}`,
      );
    }
    for (let version = current + 1; version <= MIGRATIONS.length; version++) {
      await client.query((MIGRATIONS[version - 1] as (schema: string) => string)(s));
      await client.query(`INSERT INTO ${s}.schema_version (version) VALUES ($1)`, [version]);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}
