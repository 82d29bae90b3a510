import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStateStore } from "@optio/agents";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { deleteSeed, listSeeds } from "./open-code.js";

let dir: string;
let store: FileStateStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "optio-oc-seeds-"));
  store = new FileStateStore({ dir });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function seed(agent: string, createdAt: string) {
  const blobId = await store.putBlob(new TextEncoder().encode(`${agent} seed`));
  return store.insertSeed({ agent, createdAt, blobId, encrypted: false, sourceProcessId: "p" });
}

describe("listSeeds / deleteSeed", () => {
  it("lists only opencode seeds, newest first", async () => {
    const older = await seed("opencode", "2026-01-01T00:00:00.000Z");
    await seed("claudecode", "2026-01-02T00:00:00.000Z");
    const newer = await seed("opencode", "2026-01-03T00:00:00.000Z");
    expect((await listSeeds(store)).map((s) => s.id)).toEqual([newer.id, older.id]);
  });

  it("deletes an opencode seed and leaves another agent's alone", async () => {
    const mine = await seed("opencode", "2026-01-01T00:00:00.000Z");
    const other = await seed("claudecode", "2026-01-01T00:00:00.000Z");
    expect(await deleteSeed(store, mine.id)).toEqual(mine);
    expect(await store.getSeed(mine.id)).toBeNull();
    expect(await deleteSeed(store, other.id)).toBeNull();
    expect(await store.getSeed(other.id)).toEqual(other);
  });
});
