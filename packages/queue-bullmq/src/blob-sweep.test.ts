import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { FileStateStore, StateNotFoundError } from "@optio/agents";
import { OptioConfigError } from "@optio/host";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startBlobSweeper } from "./blob-sweep.js";
import { scriptedTaskKind } from "./scripted-kind.js";
import { startWorker } from "./worker.js";

describe("the worker's blob sweeps", () => {
  let dir: string;
  let store: FileStateStore;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "optio-sweep-"));
    store = new FileStateStore({ dir });
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("sweeps at once and then on its interval; stop() waits for the sweep in progress", async () => {
    const first = await store.putBlob(Buffer.from("left behind before the start"));
    const errors: Error[] = [];
    const sweeper = startBlobSweeper(store, { everyMs: 100, graceMs: 0 }, (error) => errors.push(error));
    await sweeper.stop();
    await expect(store.getBlob(first)).rejects.toSatisfy(StateNotFoundError.isInstance);

    const later = startBlobSweeper(store, { everyMs: 100, graceMs: 0 }, (error) => errors.push(error));
    const second = await store.putBlob(Buffer.from("left behind while it runs"));
    for (const deadline = Date.now() + 5000; ; await new Promise((resolve) => setTimeout(resolve, 50))) {
      const gone = await store.getBlob(second).then(
        (stream) => (stream.destroy(), false),
        () => true,
      );
      if (gone) break;
      expect(Date.now(), "the interval's sweep").toBeLessThan(deadline);
    }
    await later.stop();
    expect(errors).toEqual([]);
  });

  it("a failed sweep goes to onError; everyMs 0 never sweeps", async () => {
    const errors: Error[] = [];
    await startBlobSweeper(store, { everyMs: 1000, graceMs: -1 }, (error) => errors.push(error)).stop();
    expect(errors.map((error) => OptioConfigError.isInstance(error))).toEqual([true]);

    const kept = await store.putBlob(Buffer.from("kept"));
    await startBlobSweeper(store, { everyMs: 0, graceMs: 0 }, (error) => errors.push(error)).stop();
    expect(Buffer.concat(await (await store.getBlob(kept)).toArray()).toString()).toBe("kept");
  });

  it.each([
    ["blobGraceMs", { blobGraceMs: -1 }],
    ["blobSweepEveryMs", { blobSweepEveryMs: 1.5 }],
  ])("startWorker refuses a bad %s with OptioConfigError before it connects", async (field, bad) => {
    const refused = await startWorker({
      redisUrl: "redis://127.0.0.1:1",
      kinds: [scriptedTaskKind(dir)],
      store,
      ...bad,
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(OptioConfigError.isInstance(refused)).toBe(true);
    expect((refused as Error).message).toContain(field);
  });
});
