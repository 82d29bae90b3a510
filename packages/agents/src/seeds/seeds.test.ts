import { LocalHost } from "@optio/host";
import { readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AdapterContext, SeedManifest } from "../spec/agent-adapter.js";
import { FileStateStore } from "../store/file-state-store.js";
import { readAllBytes } from "../resume/blob-bytes.js";
import * as errors from "../resume/resume-errors.js";
import { aesGcm, rawTarGz, readTarGz, tempDir, writeTree, type RawEntry } from "../resume/test-archives.js";
import { captureSeed, deleteSeed, listSeeds, mergeSeed } from "./seeds.js";

const SECRET = "sk-ant-oat01-SEED-CREDENTIAL";

const SOURCE_FILES = {
  "home/.claude/.credentials.json": `{"token":"${SECRET}"}`,
  "home/.claude/settings.json": '{"model":"opus"}',
  "home/.claude/plugins/p1/plugin.json": '{"name":"p1"}',
  "home/.claude/projects/-old-workdir/session.jsonl": '{"type":"user"}\n',
  "home/.claude.json": '{"projects":{"/old/workdir":{"trusted":true}}}',
  "home/.bash_history": "ls\n",
  "project/main.ts": "code\n",
};

const INCLUDE = [
  "home/.claude/.credentials.json",
  "home/.claude/settings.json",
  "home/.claude/plugins",
  "home/.claude.json",
  "home/.config/absent",
];

function adapterContext(host: LocalHost): AdapterContext {
  return {
    host,
    workdir: host.workdir,
    home: path.join(host.workdir, "home"),
    signal: new AbortController().signal,
    get hook(): never {
      throw new Error("the seed tests never use the hook context");
    },
  };
}

/** Re-keys `.claude.json` to the new workdir, the way an adapter's consume step does. */
const manifest: SeedManifest = {
  include: INCLUDE,
  async consume(ctx) {
    const text = (await ctx.host.readFile("home/.claude.json")).toString("utf8");
    const data = JSON.parse(text) as { projects: Record<string, unknown> };
    data.projects = { [ctx.workdir]: Object.values(data.projects)[0] };
    await ctx.host.writeText("home/.claude.json", JSON.stringify(data));
  },
};

describe("seeds over LocalHost and FileStateStore", () => {
  let root: string;
  let store: FileStateStore;
  const hosts: LocalHost[] = [];

  const newHost = async (processId: string) => {
    const h = new LocalHost({
      consumer: "optio-seed-test",
      processId,
      env: { OPTIO_SEED_TEST_TASK_ROOT: path.join(root, "tasks") },
    });
    await h.connect();
    hosts.push(h);
    return h;
  };
  const source = async () => {
    const h = await newHost("source");
    await writeTree(h.workdir, SOURCE_FILES);
    return h;
  };

  beforeEach(async () => {
    root = await tempDir("optio-seeds");
    store = new FileStateStore({ dir: path.join(root, "store") });
  });
  afterEach(async () => {
    for (const h of hosts.splice(0)) await h.disconnect();
    await rm(root, { recursive: true, force: true });
  });

  it("captures only the include paths: no transcripts, no other files", async () => {
    const host = await source();
    const record = await captureSeed({ host, store, agent: "claudecode", sourceProcessId: "source", manifest });
    expect(record).toMatchObject({ agent: "claudecode", sourceProcessId: "source", encrypted: false });
    expect(record.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const entries = await readTarGz(await store.getBlob(record.blobId));
    const files = [...entries]
      .filter(([, text]) => text !== null)
      .map(([name]) => name)
      .sort();
    expect(files).toEqual([
      "home/.claude.json",
      "home/.claude/.credentials.json",
      "home/.claude/plugins/p1/plugin.json",
      "home/.claude/settings.json",
    ]);
    expect(
      [...entries.keys()].filter(
        (n) => n.includes("projects") || n.includes("bash_history") || n.startsWith("project/"),
      ),
    ).toEqual([]);
    // Capturing leaves the source workdir as it was.
    expect(await readFile(path.join(host.workdir, "home/.claude/projects/-old-workdir/session.jsonl"), "utf8")).toBe(
      '{"type":"user"}\n',
    );
  });

  it("merges into a fresh workdir over planted files, then runs consume", async () => {
    const record = await captureSeed({
      host: await source(),
      store,
      agent: "claudecode",
      sourceProcessId: "source",
      manifest,
    });
    const fresh = await newHost("consumer");
    await writeTree(fresh.workdir, {
      "home/.claude/settings.json": '{"model":"planted"}',
      "home/.claude/keep.txt": "planted only",
    });
    const merged = await mergeSeed({
      host: fresh,
      store,
      seedId: record.id,
      manifest,
      adapterContext: adapterContext(fresh),
      agent: "claudecode",
    });
    expect(merged).toEqual(record);
    const read = (rel: string) => readFile(path.join(fresh.workdir, rel), "utf8");
    expect(await read("home/.claude/settings.json")).toBe('{"model":"opus"}');
    expect(await read("home/.claude/keep.txt")).toBe("planted only");
    expect(await read("home/.claude/.credentials.json")).toContain(SECRET);
    expect(await read("home/.claude/plugins/p1/plugin.json")).toBe('{"name":"p1"}');
    expect(JSON.parse(await read("home/.claude.json"))).toEqual({ projects: { [fresh.workdir]: { trusted: true } } });
    expect(await stat(path.join(fresh.workdir, "home/.claude/projects")).catch(() => null)).toBeNull();
    expect(await stat(path.join(fresh.workdir, "project")).catch(() => null)).toBeNull();
  });

  it("encrypts the seed blob and decrypts it on merge", async () => {
    const { encrypt, decrypt } = aesGcm();
    const record = await captureSeed({
      host: await source(),
      store,
      agent: "claudecode",
      sourceProcessId: "source",
      manifest,
      encrypt,
    });
    expect(record.encrypted).toBe(true);
    const stored = await readAllBytes(await store.getBlob(record.blobId));
    expect(stored.includes(Buffer.from(SECRET))).toBe(false);

    const fresh = await newHost("consumer");
    const noKey = await mergeSeed({ host: fresh, store, seedId: record.id, manifest: { include: INCLUDE } }).catch(
      (e: unknown) => e,
    );
    expect(errors.DecryptMissingError.isInstance(noKey)).toBe(true);
    const wrongKey = await mergeSeed({
      host: fresh,
      store,
      seedId: record.id,
      manifest: { include: INCLUDE },
      decrypt: aesGcm().decrypt,
    }).catch((e: unknown) => e);
    expect(errors.SeedError.isInstance(wrongKey)).toBe(true);
    expect(await stat(path.join(fresh.workdir, "home")).catch(() => null)).toBeNull();

    await mergeSeed({
      host: fresh,
      store,
      seedId: record.id,
      manifest,
      decrypt,
      adapterContext: adapterContext(fresh),
    });
    expect(await readFile(path.join(fresh.workdir, "home/.claude/.credentials.json"), "utf8")).toContain(SECRET);
  });

  it("refuses an include path outside home/, naming it: seed paths are workdir-relative like private paths", async () => {
    const host = await source();
    for (const include of [[".claude/.credentials.json"], ["project/notes.md"], ["home"]]) {
      const error = await captureSeed({
        host,
        store,
        agent: "claudecode",
        sourceProcessId: "p",
        manifest: { include },
      }).catch((e: unknown) => e);
      expect(errors.ResumePathError.isInstance(error), include[0]).toBe(true);
      expect((error as Error).message).toContain(JSON.stringify(include[0]));
    }
    expect(await store.listSeeds()).toEqual([]);
  });

  it("fails on an unknown seed id", async () => {
    const fresh = await newHost("consumer");
    const error = await mergeSeed({ host: fresh, store, seedId: "no-such-seed", manifest }).catch((e: unknown) => e);
    expect(errors.UnknownSeedError.isInstance(error)).toBe(true);
  });

  it("refuses a seed from another agent", async () => {
    const record = await captureSeed({
      host: await source(),
      store,
      agent: "opencode",
      sourceProcessId: "source",
      manifest,
    });
    const fresh = await newHost("consumer");
    const error = await mergeSeed({
      host: fresh,
      store,
      seedId: record.id,
      manifest,
      adapterContext: adapterContext(fresh),
      agent: "claudecode",
    }).catch((e: unknown) => e);
    expect(errors.SeedError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain("opencode");
  });

  it("accepts an empty seed", async () => {
    const empty = await newHost("empty-source");
    const record = await captureSeed({
      host: empty,
      store,
      agent: "claudecode",
      sourceProcessId: "empty-source",
      manifest: { include: INCLUDE },
    });
    expect([...(await readTarGz(await store.getBlob(record.blobId))).keys()]).toEqual([]);
    const fresh = await newHost("consumer");
    let consumed = 0;
    await mergeSeed({
      host: fresh,
      store,
      seedId: record.id,
      manifest: { include: INCLUDE, consume: async () => void (consumed += 1) },
      adapterContext: adapterContext(fresh),
    });
    expect(consumed).toBe(1);
    expect(await stat(path.join(fresh.workdir, "home")).catch(() => null)).toBeNull();
  });

  it("lists seeds newest first, by agent, and deletes record and blob", async () => {
    const host = await source();
    // Records are ordered by their millisecond timestamps; make each capture land on its own.
    const nextMillisecond = async () => {
      const now = Date.now();
      while (Date.now() === now) await new Promise((resolve) => setImmediate(resolve));
    };
    const a = await captureSeed({ host, store, agent: "claudecode", sourceProcessId: "source", manifest });
    await nextMillisecond();
    const b = await captureSeed({ host, store, agent: "opencode", sourceProcessId: "source", manifest });
    await nextMillisecond();
    const c = await captureSeed({ host, store, agent: "claudecode", sourceProcessId: "source", manifest });
    expect((await listSeeds(store)).map((s) => s.id)).toEqual([c.id, b.id, a.id]);
    expect((await listSeeds(store, "claudecode")).map((s) => s.id)).toEqual([c.id, a.id]);

    expect(await deleteSeed(store, a.id)).toEqual(a);
    expect(await store.getSeed(a.id)).toBeNull();
    await expect(store.getBlob(a.blobId)).rejects.toThrow();
    expect(await deleteSeed(store, a.id)).toBeNull();
    expect((await listSeeds(store, "claudecode")).map((s) => s.id)).toEqual([c.id]);
    expect(await deleteSeed(store, b.id, "claudecode")).toBeNull();
    expect(await store.getSeed(b.id)).toEqual(b);
  });

  describe("refuses seed blobs with entries it must not write", () => {
    const cases: Array<[string, RawEntry[]]> = [
      [
        "a transcript outside the include set",
        [
          { name: "home/.claude/settings.json", content: "{}" },
          { name: "home/.claude/projects/x.jsonl", content: "t" },
        ],
      ],
      ["a file outside home/", [{ name: "CLAUDE.md", content: "instructions" }]],
      ["a `..` entry", [{ name: "home/../../escaped.txt", content: "pwned" }]],
      ["an absolute path", [{ name: "/tmp/optio-seed-escaped.txt", content: "pwned" }]],
      ["a file replacing home itself", [{ name: "home", content: "not a dir" }]],
    ];
    for (const [what, entries] of cases) {
      it(what, async () => {
        const blobId = await store.putBlob(await rawTarGz(entries));
        const record = await store.insertSeed({
          agent: "claudecode",
          createdAt: new Date().toISOString(),
          blobId,
          encrypted: false,
          sourceProcessId: "x",
        });
        const fresh = await newHost("consumer");
        const error = await mergeSeed({ host: fresh, store, seedId: record.id, manifest: { include: INCLUDE } }).catch(
          (e: unknown) => e,
        );
        expect(errors.SeedContentError.isInstance(error)).toBe(true);
        expect(await stat(path.join(fresh.workdir, "home")).catch(() => null)).toBeNull();
        expect(await stat(path.join(fresh.workdir, "CLAUDE.md")).catch(() => null)).toBeNull();
        expect(await stat("/tmp/optio-seed-escaped.txt").catch(() => null)).toBeNull();
        expect(await stat(path.join(root, "tasks", "escaped.txt")).catch(() => null)).toBeNull();
      });
    }
  });

  it("reports a corrupt seed blob as a SeedError", async () => {
    const good = await rawTarGz([{ name: "home/.claude.json", content: "{}".repeat(5000) }]);
    const blobId = await store.putBlob(good.subarray(0, Math.floor(good.length / 2)));
    const record = await store.insertSeed({
      agent: "claudecode",
      createdAt: new Date().toISOString(),
      blobId,
      encrypted: false,
      sourceProcessId: "x",
    });
    const fresh = await newHost("consumer");
    const error = await mergeSeed({ host: fresh, store, seedId: record.id, manifest: { include: INCLUDE } }).catch(
      (e: unknown) => e,
    );
    expect(errors.SeedError.isInstance(error)).toBe(true);
    expect(await stat(path.join(fresh.workdir, "home")).catch(() => null)).toBeNull();
  });
});
