import type { LocalHost } from "@optio/host";
import { execFile } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SnapshotRecord, StateStore } from "../spec/state-store.js";
import { SnapshotError } from "./resume-errors.js";
import { captureSnapshot, restoreSnapshot, type SnapshotPaths } from "./snapshot.js";
import { aesGcm, writeTree } from "./test-archives.js";
import { capturer, resumeTestHost, snapshotSetup } from "./test-snapshot-setup.js";
import { STORE_KINDS, trackingStore, walk } from "./test-stores.js";

const run = promisify(execFile);

const SECRET = "sk-ant-oat01-THIS-IS-THE-TEST-CREDENTIAL";
const RESUME: SnapshotPaths = { privatePaths: ["home/.claude"] };

describe.each(STORE_KINDS)("snapshot captures over LocalHost and %s", (_name, wrapStore, usesFiles) => {
  let root: string;
  let host: LocalHost;
  let store: StateStore;
  let storeDir: string;

  const newHost = (processId: string) => resumeTestHost(root, processId);
  const plant = async (h: LocalHost) => {
    await writeTree(h.workdir, { "project/src/main.ts": "export const answer = 42;\n" });
    await writeTree(h.workdir, { "home/.claude/.credentials.json": `{"token":"${SECRET}"}` }, 0o600);
  };
  const capture = capturer(() => store, RESUME);

  beforeEach(async () => {
    ({ root, storeDir, store, host } = await snapshotSetup("optio-snapshot-failures", wrapStore));
  });
  afterEach(async () => {
    await host.disconnect();
    await run("chattr", ["-R", "-i", root]).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  });

  describe("a capture whose store fails", () => {
    const expectPreviousIntact = async (previous: SnapshotRecord, filesBefore: string[]) => {
      expect(await store.latestSnapshot("p1")).toEqual(previous);
      expect(await store.listSnapshots("p1")).toHaveLength(1);
      expect(await walk(storeDir)).toEqual(filesBefore);
      const fresh = await newHost("p1-after-failure");
      try {
        await restoreSnapshot({ host: fresh, store, record: previous, resume: RESUME });
        expect(await readFile(path.join(fresh.workdir, "home/.claude/.credentials.json"), "utf8")).toContain(SECRET);
        expect(await readFile(path.join(fresh.workdir, "round.txt"), "utf8")).toBe("first");
      } finally {
        await fresh.disconnect();
      }
    };

    /** A first snapshot stored, then a second capture of a changed workdir through `through`: what it threw. */
    const secondCaptureThrough = async (through: StateStore) => {
      await plant(host);
      await writeFile(path.join(host.workdir, "round.txt"), "first");
      const previous = await capture(host);
      const filesBefore = await walk(storeDir);
      await plant(host);
      await writeFile(path.join(host.workdir, "round.txt"), "second");
      const error = await captureSnapshot({
        host,
        store: through,
        agent: "claudecode",
        processId: "p1",
        endState: "failed",
        resume: RESUME,
      }).catch((e: unknown) => e);
      expect(SnapshotError.isInstance(error)).toBe(true);
      return { error: error as Error, previous, filesBefore };
    };

    it("when the second blob's put rejects: SnapshotError, no record, no orphan blob", async () => {
      const failing = trackingStore(store, 2);
      const { error, previous, filesBefore } = await secondCaptureThrough(failing);
      expect((error.cause as Error).message).toBe("store went away");
      expect(failing.putIds).toHaveLength(1);
      // The workdir blob went through the store's file exactly when the store has files.
      expect(failing.filePuts).toBe(usesFiles ? 1 : 0);
      for (const id of failing.putIds) await expect(store.getBlob(id)).rejects.toThrow();
      await expectPreviousIntact(previous, filesBefore);
    });

    it("when only the record is refused, after both blobs were written: SnapshotError, both blobs deleted", async () => {
      const refusing = Object.assign(trackingStore(store), {
        insertSnapshot: async () => {
          throw new Error("record refused");
        },
      });
      const { error, previous, filesBefore } = await secondCaptureThrough(refusing);
      expect(error.message).toBe("snapshot of p1 failed while recording the snapshot");
      expect(refusing.putIds).toHaveLength(2);
      for (const id of refusing.putIds) await expect(store.getBlob(id)).rejects.toThrow();
      await expectPreviousIntact(previous, filesBefore);
    });

    it("when the store directory turns read-only mid-capture: SnapshotError, no record, no orphan blob", async () => {
      await plant(host);
      await writeFile(path.join(host.workdir, "round.txt"), "first");
      const previous = await capture(host);
      const filesBefore = await walk(storeDir);

      await plant(host);
      const { encrypt } = aesGcm();
      // Root ignores permission bits, so the immutable flag stands in for a read-only mount.
      const lockStore: typeof encrypt = async (data) => {
        await run("chattr", ["-R", "+i", storeDir]);
        return encrypt(data);
      };
      const error = await capture(host, { encrypt: lockStore }).catch((e: unknown) => e);
      await run("chattr", ["-R", "-i", storeDir]);
      expect(SnapshotError.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain("storing the private blob");
      await expectPreviousIntact(previous, filesBefore);
    });
  });
});
