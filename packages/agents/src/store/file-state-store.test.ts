import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { UnsafeProcessIdError } from "@optio/host";
import { exitOf, lineFrom } from "@optio/host/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InvalidStateIdError, InvalidStateRecordError, StateNotFoundError, StateWriteError } from "../spec/errors.js";
import { stateStoreSuite } from "../testing/state-store-suite.js";
import { FileStateStore } from "./file-state-store.js";
import type { SnapshotRecord } from "../spec/state-store.js";

const run = promisify(execFile);

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), "optio-state-"));
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

stateStoreSuite(
  "FileStateStore",
  async () => {
    const dir = await tempDir();
    const store = new FileStateStore({ dir });
    return {
      store,
      listBlobIds: async () => (await listDir(path.join(dir, "blobs"))).sort(),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
  { blobFiles: true },
);

function snapshot(processId: string, capturedAt: string): Omit<SnapshotRecord, "id"> {
  return {
    processId,
    agent: "claudecode",
    capturedAt,
    endState: "done",
    workdirBlobId: "w",
    privateBlobId: "p",
    encrypted: false,
  };
}

describe("FileStateStore on disk", () => {
  let dir: string;
  let store: FileStateStore;

  beforeEach(async () => {
    dir = await tempDir();
    store = new FileStateStore({ dir });
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("defaults to $OPTIO_STATE_DIR, then ~/.local/share/optio/state", () => {
    const saved = { state: process.env.OPTIO_STATE_DIR, xdg: process.env.XDG_DATA_HOME };
    try {
      process.env.OPTIO_STATE_DIR = "/srv/optio-state";
      expect(new FileStateStore().dir).toBe("/srv/optio-state");
      delete process.env.OPTIO_STATE_DIR;
      delete process.env.XDG_DATA_HOME;
      expect(new FileStateStore({}).dir).toBe(path.join(os.homedir(), ".local", "share", "optio", "state"));
      expect(new FileStateStore({ dir: "/explicit" }).dir).toBe("/explicit");
    } finally {
      for (const [key, value] of [
        ["OPTIO_STATE_DIR", saved.state],
        ["XDG_DATA_HOME", saved.xdg],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it("lays records out as blobs/, snapshots/<processId>/ and seeds/, files 0600", async () => {
    const blobId = await store.putBlob(new TextEncoder().encode("b"));
    const snap = await store.insertSnapshot(snapshot("proc-1", "2025-01-01T00:00:00.000Z"));
    const seed = await store.insertSeed({
      agent: "a",
      createdAt: "2025-01-01T00:00:00.000Z",
      blobId,
      encrypted: false,
      sourceProcessId: "proc-1",
    });
    expect(await readdir(path.join(dir, "blobs"))).toEqual([blobId]);
    const [snapFile] = await readdir(path.join(dir, "snapshots", "proc-1"));
    expect(snapFile).toMatch(new RegExp(`^001735689600000-\\d{15}-\\d{9}-${snap.id}\\.json$`));
    expect(JSON.parse(await readFile(path.join(dir, "snapshots", "proc-1", snapFile ?? ""), "utf8"))).toEqual(snap);
    expect(await readdir(path.join(dir, "seeds"))).toEqual([`${seed.id}.json`]);
    expect((await stat(path.join(dir, "blobs", blobId))).mode & 0o777).toBe(0o600);
  });

  it("refuses ids and processIds that could escape, and malformed records, with typed errors", async () => {
    for (const bad of ["../x", "a/b", "", ".", "x.json", "a\0b"]) {
      await expect(store.getBlob(bad)).rejects.toSatisfy(InvalidStateIdError.isInstance);
      await expect(store.deleteBlob(bad)).rejects.toSatisfy(InvalidStateIdError.isInstance);
      await expect(store.getSeed(bad)).rejects.toSatisfy(InvalidStateIdError.isInstance);
      await expect(store.deleteSeed(bad)).rejects.toSatisfy(InvalidStateIdError.isInstance);
    }
    for (const bad of ["..", "../x", "a/b"]) {
      await expect(store.listSnapshots(bad)).rejects.toSatisfy(UnsafeProcessIdError.isInstance);
      await expect(store.insertSnapshot(snapshot(bad, "2025-01-01T00:00:00.000Z"))).rejects.toSatisfy(
        UnsafeProcessIdError.isInstance,
      );
    }
    await expect(store.insertSnapshot(snapshot("p", "yesterday"))).rejects.toSatisfy(
      InvalidStateRecordError.isInstance,
    );
    await expect(
      store.insertSnapshot({ ...snapshot("p", "2025-01-01T00:00:00.000Z"), workdirBlobId: "../../etc" }),
    ).rejects.toThrow(/workdirBlobId/);
    await expect(store.pruneSnapshots("p", -1)).rejects.toSatisfy(InvalidStateRecordError.isInstance);
    expect(await listDir(path.join(dir, "snapshots"))).toEqual([]);
  });

  it("ignores a temp file left by a crashed write, keeps the previous record, and cleans it up on the next write", async () => {
    const first = await store.insertSnapshot(snapshot("proc-1", "2025-01-01T00:00:00.000Z"));
    const seed = await store.insertSeed({
      agent: "a",
      createdAt: "2025-01-01T00:00:00.000Z",
      blobId: "b",
      encrypted: false,
      sourceProcessId: "proc-1",
    });
    const snapDir = path.join(dir, "snapshots", "proc-1");
    // A writer that died mid-record: its pid no longer exists, its JSON is cut short.
    const { stdout } = await run(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
    const deadPid = Number(stdout);
    const crashed = [
      path.join(snapDir, `.tmp-${deadPid}-0123abcd`),
      path.join(dir, "seeds", `.tmp-${deadPid}-4567ef01`),
      path.join(dir, "blobs", `.tmp-${deadPid}-89abcdef`),
    ];
    await mkdir(path.join(dir, "blobs"), { recursive: true });
    for (const file of crashed) await writeFile(file, '{"id": "half-writ');

    expect(await store.latestSnapshot("proc-1")).toEqual(first);
    expect(await store.listSnapshots("proc-1")).toEqual([first]);
    expect(await store.listSeeds()).toEqual([seed]);

    const second = await store.insertSnapshot(snapshot("proc-1", "2025-01-02T00:00:00.000Z"));
    await store.insertSeed({
      agent: "a",
      createdAt: "2025-01-02T00:00:00.000Z",
      blobId: "b",
      encrypted: false,
      sourceProcessId: "proc-1",
    });
    await store.putBlob(new Uint8Array([1]));
    for (const file of crashed) await expect(stat(file)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await store.latestSnapshot("proc-1")).toEqual(second);
  });

  it("a writer SIGKILLed between a snapshot's blob and its record leaves an orphan that a sweep past the grace removes", async () => {
    const kept = await store.putBlob(Buffer.from("kept"));
    await store.insertSnapshot({ ...snapshot("proc-1", "2025-01-01T00:00:00.000Z"), workdirBlobId: kept });
    // The built package in a process of its own, stopped where a capture would insert the record.
    const dist = fileURLToPath(new URL("../../dist/index.js", import.meta.url));
    const child = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { FileStateStore } = await import(${JSON.stringify(dist)});
const store = new FileStateStore({ dir: ${JSON.stringify(dir)} });
const blob = await store.putBlob(Buffer.alloc(1024 * 1024, 7));
process.stdout.write("BLOB:" + blob + "\\n");
await new Promise(() => {});`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const orphan = await lineFrom(child, "BLOB:");
    child.kill("SIGKILL");
    expect(await exitOf(child)).toBe("SIGKILL");
    expect((await stat(path.join(dir, "blobs", orphan))).size).toBe(1024 * 1024);

    // Younger than the grace, it could be a live writer's blob whose record is on its way.
    expect(await store.sweepBlobs({ graceMs: 60_000 })).toEqual([]);
    await delay(600);
    expect(await store.sweepBlobs({ graceMs: 500 })).toEqual([orphan]);
    await expect(store.getBlob(orphan)).rejects.toSatisfy(StateNotFoundError.isInstance);
    expect(Buffer.concat(await (await store.getBlob(kept)).toArray()).toString()).toBe("kept");
  });

  it("does not remove a temp file whose writer is still alive", async () => {
    await store.insertSnapshot(snapshot("proc-1", "2025-01-01T00:00:00.000Z"));
    const live = path.join(dir, "snapshots", "proc-1", `.tmp-${process.ppid}-feedface`);
    await writeFile(live, "in progress");
    await store.insertSnapshot(snapshot("proc-1", "2025-01-02T00:00:00.000Z"));
    expect(await readFile(live, "utf8")).toBe("in progress");
  });

  it("a failed blob put leaves no temp file behind", async () => {
    async function* broken() {
      yield new Uint8Array(1024);
      throw new Error("source failed");
    }
    const error = await store.putBlob(broken()).catch((e: unknown) => e);
    expect(StateWriteError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/source failed/);
    expect(await listDir(path.join(dir, "blobs"))).toEqual([]);
  });

  it("streams a large blob to disk as it is produced instead of collecting it", async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x5a);
    const total = 64;
    const blobsDir = path.join(dir, "blobs");
    let maxLagBytes = 0;
    async function* source() {
      for (let i = 0; i < total; i++) {
        if (i > 0) {
          // Everything yielded so far, bar the chunk in flight, must already be in the temp file.
          const names = (await listDir(blobsDir)).filter((n) => n.startsWith(".tmp-"));
          expect(names).toHaveLength(1);
          const written = (await stat(path.join(blobsDir, names[0] ?? ""))).size;
          maxLagBytes = Math.max(maxLagBytes, i * chunk.length - written);
        }
        yield chunk;
      }
    }
    const id = await store.putBlob(source());
    expect(maxLagBytes).toBeLessThanOrEqual(chunk.length);
    expect((await stat(path.join(blobsDir, id))).size).toBe(total * chunk.length);
  });

  it("keeps every byte in order when chunks straddle, fill or exceed its 64 KB write blocks", async () => {
    const chunks = [1, 4096, 65_535, 2, 70_000, 0, 3000, 65_536, 131_073, 17].map((size) => randomBytes(size));
    async function* source() {
      yield* chunks;
    }
    const id = await store.putBlob(source());
    expect((await readFile(path.join(dir, "blobs", id))).equals(Buffer.concat(chunks))).toBe(true);
  });

  it("a read-only store fails writes with StateWriteError and keeps the old state loadable", async () => {
    const blobId = await store.putBlob(new TextEncoder().encode("kept"));
    const snap = await store.insertSnapshot(snapshot("proc-1", "2025-01-01T00:00:00.000Z"));
    await store.insertSnapshot(snapshot("proc-1", "2025-01-02T00:00:00.000Z"));
    const seed = await store.insertSeed({
      agent: "a",
      createdAt: "2025-01-01T00:00:00.000Z",
      blobId,
      encrypted: false,
      sourceProcessId: "proc-1",
    });
    const before = await store.listSnapshots("proc-1");
    const dirs = [
      dir,
      path.join(dir, "blobs"),
      path.join(dir, "seeds"),
      path.join(dir, "snapshots"),
      path.join(dir, "snapshots", "proc-1"),
    ];

    // root ignores permission bits, so as root the directories are made immutable instead.
    const asRoot = process.getuid?.() === 0;
    const lock = async () => {
      for (const d of dirs) {
        await chmod(d, 0o500);
        if (asRoot) await run("chattr", ["+i", d]);
      }
    };
    const unlock = async () => {
      for (const d of dirs) {
        if (asRoot) await run("chattr", ["-i", d]);
        await chmod(d, 0o700);
      }
    };
    await lock();
    try {
      const writes = [
        () => store.putBlob(new TextEncoder().encode("new")),
        () => store.insertSnapshot(snapshot("proc-1", "2025-01-03T00:00:00.000Z")),
        () => store.insertSnapshot(snapshot("proc-2", "2025-01-03T00:00:00.000Z")),
        () =>
          store.insertSeed({
            agent: "a",
            createdAt: "2025-01-02T00:00:00.000Z",
            blobId,
            encrypted: false,
            sourceProcessId: "proc-1",
          }),
        () => store.deleteSeed(seed.id),
        () => store.deleteBlob(blobId),
        () => store.pruneSnapshots("proc-1", 1),
      ];
      for (const write of writes) await expect(write()).rejects.toSatisfy(StateWriteError.isInstance);

      expect(await store.listSnapshots("proc-1")).toEqual(before);
      expect(before.at(-1)).toEqual(snap);
      expect(await store.getSeed(seed.id)).toEqual(seed);
      expect(Buffer.concat(await (await store.getBlob(blobId)).toArray()).toString()).toBe("kept");
    } finally {
      await unlock();
    }
  });
});
