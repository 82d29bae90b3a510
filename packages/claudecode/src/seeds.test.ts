import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStateStore, StateNotFoundError } from "@optio/agents";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { deleteSeed, listSeeds } from "./claude-code.js";

let dir: string;
let store: FileStateStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "optio-cc-seeds-"));
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
  it("lists only Claude Code seeds, newest first", async () => {
    const older = await seed("claudecode", "2026-01-01T00:00:00.000Z");
    await seed("opencode", "2026-01-02T00:00:00.000Z");
    const newer = await seed("claudecode", "2026-01-03T00:00:00.000Z");
    expect((await listSeeds(store)).map((s) => s.id)).toEqual([newer.id, older.id]);
  });

  it("deletes a seed and its blob, returning what it removed", async () => {
    const record = await seed("claudecode", "2026-01-01T00:00:00.000Z");
    expect(await deleteSeed(store, record.id)).toEqual(record);
    expect(await store.getSeed(record.id)).toBeNull();
    const error = await store.getBlob(record.blobId).catch((e: unknown) => e);
    expect(StateNotFoundError.isInstance(error)).toBe(true);
    expect(await deleteSeed(store, record.id)).toBeNull();
  });

  it("leaves another agent's seed alone", async () => {
    const other = await seed("opencode", "2026-01-01T00:00:00.000Z");
    expect(await deleteSeed(store, other.id)).toBeNull();
    expect(await store.getSeed(other.id)).toEqual(other);
  });
});
