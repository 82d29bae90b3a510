import { stateStoreSuite } from "@optio/agents/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StateStoreUnavailableError } from "./errors.js";
import { MIGRATIONS } from "./migrations.js";
import { PostgresStateStore } from "./postgres-state-store.js";
import { startTestPostgres, type TestPostgres } from "./test-postgres.js";

let server: TestPostgres;
let schemas = 0;

beforeAll(async () => {
  server = await startTestPostgres();
});

afterAll(async () => {
  await server?.stop();
});

stateStoreSuite("PostgresStateStore", async () => {
  // A schema of its own per test: a fresh, empty store without a fresh database.
  const store = new PostgresStateStore({ connectionString: server.connectionString(), schema: `suite_${++schemas}` });
  return { store, listBlobIds: () => store.listBlobIds(), cleanup: () => store.close() };
});

async function versionRows(
  connectionString: string,
  schema: string,
): Promise<Array<{ version: number; applied_at: Date }>> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return (await client.query(`SELECT version, applied_at FROM "${schema}".schema_version ORDER BY version`)).rows;
  } finally {
    await client.end();
  }
}

describe("PostgresStateStore schema", () => {
  it("concurrent first starts on a new database migrate once; a later store runs nothing again", async () => {
    const url = await server.createDatabase("migrations");
    const stores = Array.from({ length: 6 }, () => new PostgresStateStore({ connectionString: url }));
    try {
      expect(await Promise.all(stores.map((s) => s.schemaVersion()))).toEqual(stores.map(() => MIGRATIONS.length));
      const applied = await versionRows(url, "optio");
      expect(applied.map((r) => r.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
      const later = new PostgresStateStore({ connectionString: url });
      try {
        await later.insertSeed({
          agent: "claudecode",
          createdAt: "2025-01-01T00:00:00.000Z",
          blobId: "b",
          encrypted: false,
          sourceProcessId: "p",
        });
        expect(await versionRows(url, "optio")).toEqual(applied);
        expect(await stores[0]?.listSeeds()).toHaveLength(1);
      } finally {
        await later.close();
      }
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it("refuses bad options, naming the field", () => {
    expect(() => new PostgresStateStore({ connectionString: "postgres://x", schema: "Bad-Name" })).toThrow(
      /options\.schema/,
    );
    expect(() => new PostgresStateStore({})).toThrow(/options\.connectionString/);
  });
});

describe("PostgresStateStore when the server goes away", () => {
  it("fails with StateStoreUnavailableError while it is down and works again once it is back", async () => {
    const store = new PostgresStateStore({ connectionString: server.connectionString(), schema: "outage" });
    try {
      const id = await store.putBlob(Buffer.from("before the outage"));
      await server.halt();
      await expect(store.getBlob(id)).rejects.toSatisfy(StateStoreUnavailableError.isInstance);
      await expect(store.putBlob(Buffer.alloc(2 * 1024 * 1024, 3))).rejects.toSatisfy(
        StateStoreUnavailableError.isInstance,
      );
      await expect(store.listSeeds()).rejects.toSatisfy(StateStoreUnavailableError.isInstance);
      // The error names what was being done, so a worker's report says which step of a task met the outage.
      const snapshot = {
        processId: "outage-1",
        agent: "claudecode",
        capturedAt: new Date().toISOString(),
        endState: "done" as const,
        workdirBlobId: id,
        privateBlobId: id,
        encrypted: false,
      };
      const refused = await store.insertSnapshot(snapshot).catch((error: unknown) => error);
      expect(StateStoreUnavailableError.isInstance(refused) && refused.code).toBe("state_store_unavailable");
      expect((refused as Error).message).toMatch(/^inserting a snapshot of outage-1: PostgreSQL is unavailable/);
      await expect(store.latestSnapshot("outage-1")).rejects.toThrow(/^reading the snapshots of outage-1: /);
      await server.resume();
      expect(await store.listSnapshots("outage-1")).toEqual([]);
      expect(Buffer.concat(await (await store.getBlob(id)).toArray()).toString()).toBe("before the outage");
      const after = await store.putBlob(Buffer.from("after the outage"));
      expect(Buffer.concat(await (await store.getBlob(after)).toArray()).toString()).toBe("after the outage");
    } finally {
      await server.resume();
      await store.close();
    }
  });

  it("a put the outage cuts off mid-stream fails with StateStoreUnavailableError and leaves no blob", async () => {
    const store = new PostgresStateStore({ connectionString: server.connectionString(), schema: "outage_mid_put" });
    try {
      const kept = await store.putBlob(Buffer.from("written before the outage"));
      async function* source() {
        for (let i = 0; i < 4; i++) yield Buffer.alloc(1024 * 1024, i);
        await server.halt();
        for (let i = 0; i < 64; i++) yield Buffer.alloc(1024 * 1024, i);
      }
      await expect(store.putBlob(source())).rejects.toSatisfy(StateStoreUnavailableError.isInstance);
      await server.resume();
      expect(await store.listBlobIds()).toEqual([kept]);
    } finally {
      await server.resume();
      await store.close();
    }
  });

  it("a blob whose record the outage refused, and whose delete it refused too, is deleted once the server is back", async () => {
    const store = new PostgresStateStore({ connectionString: server.connectionString(), schema: "outage_left" });
    try {
      const kept = await store.putBlob(Buffer.from("another task's blob"));
      const written = await store.putBlob(Buffer.from("written just before the outage"));
      await server.halt();
      const refused = store.insertSnapshot({
        processId: "left-1",
        agent: "claudecode",
        capturedAt: new Date().toISOString(),
        endState: "done",
        workdirBlobId: written,
        privateBlobId: written,
        encrypted: false,
      });
      await expect(refused).rejects.toSatisfy(StateStoreUnavailableError.isInstance);
      // What a capture does when its record is refused: delete what it wrote. The outage refuses that as well.
      await expect(store.deleteBlob(written)).rejects.toSatisfy(StateStoreUnavailableError.isInstance);
      await server.resume();
      expect(await store.listSnapshots("left-1")).toEqual([]);
      expect(await store.listBlobIds()).toEqual([kept]);
      await expect(store.getBlob(written)).rejects.toThrow(/^no blob with id /);
    } finally {
      await server.resume();
      await store.close();
    }
  });
});
