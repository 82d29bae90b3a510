import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import { OptioConfigError } from "@optio/host";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StateNotFoundError } from "../spec/errors.js";
import {
  type BlobFiles,
  hasBlobFiles,
  type SeedRecord,
  type SnapshotRecord,
  type StateStore,
} from "../spec/state-store.js";

export interface StateStoreUnderTest {
  store: StateStore;
  cleanup?: () => Promise<void>;
  /** Every blob id the store holds, when the store can tell; lets the suite check that a failed put left nothing. */
  listBlobIds?: () => Promise<string[]>;
}

/** Deterministic, non-repeating bytes: `total` of them in `chunkSize` pieces, made as they are consumed. */
async function* generatedBytes(total: number, chunkSize = 64 * 1024, failAfter?: number): AsyncGenerator<Uint8Array> {
  let state = 0x9e3779b9;
  let sent = 0;
  while (sent < total) {
    if (failAfter !== undefined && sent >= failAfter) throw new Error("the source broke mid-stream");
    const size = Math.min(chunkSize, total - sent);
    const chunk = Buffer.allocUnsafe(size);
    for (let i = 0; i < size; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      chunk[i] = state >>> 24;
    }
    sent += size;
    yield chunk;
  }
}

async function digestOf(source: AsyncIterable<unknown>): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of source) {
    const data = chunk as Uint8Array;
    hash.update(data);
    bytes += data.byteLength;
  }
  return { sha256: hash.digest("hex"), bytes };
}

function snapshotInput(
  processId: string,
  capturedAt: string,
  overrides: Partial<SnapshotRecord> = {},
): Omit<SnapshotRecord, "id"> {
  return {
    processId,
    agent: "claudecode",
    capturedAt,
    endState: "done",
    workdirBlobId: "workdirblob",
    privateBlobId: "privateblob",
    encrypted: false,
    ...overrides,
  };
}

function seedInput(agent: string, createdAt: string): Omit<SeedRecord, "id"> {
  return { agent, createdAt, blobId: "seedblob", encrypted: true, sourceProcessId: "proc-1" };
}

const ID_SHAPE = /^[A-Za-z0-9_-]+$/;

export interface StateStoreSuiteOptions {
  /** The store offers BlobFiles: the suite then holds it to that contract too. */
  blobFiles?: boolean;
}

/**
 * The behaviour every StateStore must show. Call it from a vitest file with a
 * factory that makes a fresh, empty store per test.
 */
export function stateStoreSuite(
  name: string,
  makeStore: () => Promise<StateStoreUnderTest>,
  options: StateStoreSuiteOptions = {},
): void {
  describe(`StateStore contract: ${name}`, () => {
    let current: StateStoreUnderTest;
    let store: StateStore;

    beforeEach(async () => {
      current = await makeStore();
      store = current.store;
    });

    afterEach(async () => {
      await current.cleanup?.();
    });

    describe("blobs", () => {
      it("streams a few MB in and out unchanged", async () => {
        const size = 5 * 1024 * 1024 + 123;
        const expected = await digestOf(generatedBytes(size));
        const id = await store.putBlob(generatedBytes(size));
        expect(id).toMatch(ID_SHAPE);
        const stream = await store.getBlob(id);
        expect(stream).toBeInstanceOf(Readable);
        expect(await digestOf(stream)).toEqual(expected);
      });

      it("accepts a Uint8Array, a Readable and an empty source, each under a new id", async () => {
        const bytes = new TextEncoder().encode("hello, state store");
        const fromArray = await store.putBlob(bytes);
        const fromReadable = await store.putBlob(Readable.from([Buffer.from("part one, "), Buffer.from("part two")]));
        const empty = await store.putBlob(new Uint8Array(0));
        expect(new Set([fromArray, fromReadable, empty]).size).toBe(3);
        expect(Buffer.concat(await (await store.getBlob(fromArray)).toArray()).toString()).toBe("hello, state store");
        expect(Buffer.concat(await (await store.getBlob(fromReadable)).toArray()).toString()).toBe(
          "part one, part two",
        );
        expect((await (await store.getBlob(empty)).toArray()).length).toBe(0);
      });

      it("deletes a blob; deleting a missing one is fine", async () => {
        const id = await store.putBlob(new TextEncoder().encode("short-lived"));
        await store.deleteBlob(id);
        await expect(store.getBlob(id)).rejects.toSatisfy(StateNotFoundError.isInstance);
        await store.deleteBlob(id);
      });

      it("an unknown id is StateNotFoundError; a path-like id is refused", async () => {
        await expect(store.getBlob("0123456789abcdef0123456789abcdef")).rejects.toSatisfy(
          StateNotFoundError.isInstance,
        );
        await expect(store.getBlob("../../../../etc/passwd")).rejects.toThrow();
      });

      it.each([
        ["an async generator", () => generatedBytes(3 * 1024 * 1024, 64 * 1024, 1024 * 1024)],
        [
          "a Readable",
          () =>
            new Readable({
              read() {
                this.push(Buffer.alloc(256 * 1024, 7));
                this.destroy(new Error("the readable broke mid-stream"));
              },
            }),
        ],
      ])("a source (%s) that fails mid-put rejects and leaves nothing behind", async (_kind, source) => {
        const before = await current.listBlobIds?.();
        await expect(store.putBlob(source())).rejects.toThrow();
        if (current.listBlobIds) expect(await current.listBlobIds()).toEqual(before);
        const after = await store.putBlob(new TextEncoder().encode("still works"));
        expect(Buffer.concat(await (await store.getBlob(after)).toArray()).toString()).toBe("still works");
      });
    });

    describe("sweeping blobs", () => {
      const text = async (id: string) => Buffer.concat(await (await store.getBlob(id)).toArray()).toString();

      it("deletes a blob no record refers to once older than the grace; keeps referenced and fresh ones", async () => {
        const put = (content: string) => store.putBlob(Buffer.from(content));
        const orphan = await put("orphan");
        const workdir = await put("workdir");
        const secret = await put("private");
        const seedBlob = await put("seed");
        await store.insertSnapshot(
          snapshotInput("proc-a", "2025-01-01T00:00:00.000Z", { workdirBlobId: workdir, privateBlobId: secret }),
        );
        await store.insertSeed({ ...seedInput("claudecode", "2025-01-01T00:00:00.000Z"), blobId: seedBlob });
        await delay(1500);
        const fresh = await put("fresh");

        expect(await store.sweepBlobs({ graceMs: 1000 })).toEqual([orphan]);
        await expect(store.getBlob(orphan)).rejects.toSatisfy(StateNotFoundError.isInstance);
        expect(await Promise.all([workdir, secret, seedBlob, fresh].map(text))).toEqual([
          "workdir",
          "private",
          "seed",
          "fresh",
        ]);
        // The default grace (a day) spares every blob stored just now.
        expect(await store.sweepBlobs()).toEqual([]);
        expect(await text(fresh)).toBe("fresh");
      });

      it("a blob whose snapshot was pruned is swept; one a remaining snapshot shares is kept", async () => {
        const shared = await store.putBlob(Buffer.from("shared"));
        const own = await store.putBlob(Buffer.from("own"));
        await store.insertSnapshot(
          snapshotInput("proc-a", "2025-01-01T00:00:00.000Z", { workdirBlobId: own, privateBlobId: shared }),
        );
        await store.insertSnapshot(
          snapshotInput("proc-a", "2025-01-02T00:00:00.000Z", { workdirBlobId: shared, privateBlobId: shared }),
        );
        await store.pruneSnapshots("proc-a", 1);
        expect(await store.sweepBlobs({ graceMs: 0 })).toEqual([own]);
        expect(await text(shared)).toBe("shared");
      });

      it.each([
        ["a negative grace", { graceMs: -1 }],
        ["a fractional grace", { graceMs: 1.5 }],
        ["a grace that is not a number", { graceMs: "1000" as unknown as number }],
      ])("%s is OptioConfigError naming graceMs, and nothing is deleted", async (_case, bad) => {
        const orphan = await store.putBlob(Buffer.from("orphan"));
        const refused = await store.sweepBlobs(bad).then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(OptioConfigError.isInstance(refused)).toBe(true);
        expect((refused as Error).message).toContain("graceMs");
        expect(await text(orphan)).toBe("orphan");
      });
    });

    if (options.blobFiles) {
      describe("blob files", () => {
        const fileStore = () => {
          expect(hasBlobFiles(store)).toBe(true);
          return store as StateStore & BlobFiles;
        };

        it("a blob filled through its file reads back through getBlob and openBlobFile, which stays readable after a delete", async () => {
          const size = 3 * 1024 * 1024 + 7;
          const expected = await digestOf(generatedBytes(size));
          const files = fileStore();
          const id = await files.putBlobFile(async (file) => {
            for await (const chunk of generatedBytes(size)) await file.write(chunk);
          });
          expect(id).toMatch(ID_SHAPE);
          expect(await digestOf(await files.getBlob(id))).toEqual(expected);
          const opened = await files.openBlobFile(id);
          try {
            await files.deleteBlob(id);
            expect(await digestOf(opened.createReadStream({ start: 0, autoClose: false }))).toEqual(expected);
          } finally {
            await opened.close();
          }
          await expect(files.openBlobFile(id)).rejects.toSatisfy(StateNotFoundError.isInstance);
        });

        it("a fill that fails rejects and leaves nothing behind", async () => {
          const files = fileStore();
          const before = await current.listBlobIds?.();
          await expect(
            files.putBlobFile(async (file) => {
              await file.write(Buffer.alloc(64 * 1024, 1));
              throw new Error("the archiver died");
            }),
          ).rejects.toThrow();
          if (current.listBlobIds) expect(await current.listBlobIds()).toEqual(before);
        });

        it("an unknown id is StateNotFoundError; a path-like id is refused", async () => {
          const files = fileStore();
          await expect(files.openBlobFile("0123456789abcdef0123456789abcdef")).rejects.toSatisfy(
            StateNotFoundError.isInstance,
          );
          await expect(files.openBlobFile("../../../../etc/passwd")).rejects.toThrow();
        });
      });
    }

    describe("snapshots", () => {
      it("inserts records with new ids and reads the latest back", async () => {
        expect(await store.latestSnapshot("proc-a")).toBeNull();
        expect(await store.listSnapshots("proc-a")).toEqual([]);
        const input = snapshotInput("proc-a", "2025-01-02T03:04:05.000Z", { endState: "cancelled", encrypted: true });
        const record = await store.insertSnapshot(input);
        expect(record).toEqual({ ...input, id: expect.stringMatching(ID_SHAPE) });
        expect(await store.latestSnapshot("proc-a")).toEqual(record);
      });

      it("lists newest first by capture time, per processId", async () => {
        const times = [
          "2025-03-01T00:00:00.000Z",
          "2025-01-01T00:00:00.000Z",
          "2025-05-01T00:00:00.000Z",
          "2025-02-01T00:00:00.000Z",
        ];
        const inserted: SnapshotRecord[] = [];
        for (const time of times) inserted.push(await store.insertSnapshot(snapshotInput("proc-a", time)));
        const other = await store.insertSnapshot(snapshotInput("proc-b", "2026-01-01T00:00:00.000Z"));

        const listed = await store.listSnapshots("proc-a");
        expect(listed.map((r) => r.capturedAt)).toEqual([...times].sort().reverse());
        expect(new Set(listed.map((r) => r.id))).toEqual(new Set(inserted.map((r) => r.id)));
        expect(await store.latestSnapshot("proc-a")).toEqual(inserted[2]);
        expect(await store.listSnapshots("proc-b")).toEqual([other]);
      });

      it("orders snapshots captured at the same instant by insertion, newest first", async () => {
        const first = await store.insertSnapshot(snapshotInput("proc-a", "2025-01-01T00:00:00.000Z"));
        const second = await store.insertSnapshot(snapshotInput("proc-a", "2025-01-01T00:00:00.000Z"));
        expect((await store.listSnapshots("proc-a")).map((r) => r.id)).toEqual([second.id, first.id]);
      });

      it("prunes to the newest N and returns what it removed", async () => {
        const inserted: SnapshotRecord[] = [];
        for (let day = 1; day <= 7; day++) {
          inserted.push(await store.insertSnapshot(snapshotInput("proc-a", `2025-01-0${day}T12:00:00.000Z`)));
        }
        const kept = await store.insertSnapshot(snapshotInput("proc-b", "2020-01-01T00:00:00.000Z"));

        const removed = await store.pruneSnapshots("proc-a", 5);
        expect(removed.map((r) => r.id).sort()).toEqual([inserted[0]?.id, inserted[1]?.id].sort());
        expect((await store.listSnapshots("proc-a")).map((r) => r.id)).toEqual(
          inserted
            .slice(2)
            .reverse()
            .map((r) => r.id),
        );
        expect(await store.pruneSnapshots("proc-a", 5)).toEqual([]);
        expect(await store.listSnapshots("proc-b")).toEqual([kept]);

        const rest = await store.pruneSnapshots("proc-a", 0);
        expect(rest).toHaveLength(5);
        expect(await store.latestSnapshot("proc-a")).toBeNull();
      });
    });

    describe("seeds", () => {
      it("inserts, gets, lists newest first filtered by agent, and deletes", async () => {
        const oldClaude = await store.insertSeed(seedInput("claudecode", "2025-01-01T00:00:00.000Z"));
        const opencode = await store.insertSeed(seedInput("opencode", "2025-02-01T00:00:00.000Z"));
        const newClaude = await store.insertSeed(seedInput("claudecode", "2025-03-01T00:00:00.000Z"));
        expect(newClaude).toEqual({
          ...seedInput("claudecode", "2025-03-01T00:00:00.000Z"),
          id: expect.stringMatching(ID_SHAPE),
        });

        expect(await store.getSeed(opencode.id)).toEqual(opencode);
        expect(await store.getSeed("0123456789abcdef0123456789abcdef")).toBeNull();
        expect(await store.listSeeds()).toEqual([newClaude, opencode, oldClaude]);
        expect(await store.listSeeds({ agent: "claudecode" })).toEqual([newClaude, oldClaude]);
        expect(await store.listSeeds({ agent: "nobody" })).toEqual([]);

        expect(await store.deleteSeed(oldClaude.id)).toEqual(oldClaude);
        expect(await store.deleteSeed(oldClaude.id)).toBeNull();
        expect(await store.getSeed(oldClaude.id)).toBeNull();
        expect(await store.listSeeds({ agent: "claudecode" })).toEqual([newClaude]);
      });
    });
  });
}
