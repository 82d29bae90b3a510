import { type LocalHost, PathEscapeError, RestoreLimitError } from "@optio/host";
import { randomBytes } from "node:crypto";
import { readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SnapshotRecord, StateStore } from "../spec/state-store.js";
import { readAllBytes } from "./blob-bytes.js";
import { DecryptMissingError, SnapshotDecryptError, SnapshotRestoreError } from "./resume-errors.js";
import { pruneSnapshots, restoreSnapshot, type SnapshotPaths } from "./snapshot.js";
import { capturer, resumeTestHost, snapshotSetup } from "./test-snapshot-setup.js";
import { STORE_KINDS, walk } from "./test-stores.js";
import { aesGcm, rawTarGz, readTarGz, writeTree, type RawEntry } from "./test-archives.js";

const SECRET = "sk-ant-oat01-THIS-IS-THE-TEST-CREDENTIAL";
const RESUME: SnapshotPaths = {
  privatePaths: ["home/.claude", "home/.claude.json"],
  regenerablePaths: ["home/.local/share/claude", "home/.cache"],
};

const WORKDIR_FILES = {
  "project/src/main.ts": "export const answer = 42;\n",
  "project/README.md": "# hello\n",
  "CLAUDE.md": "instructions\n",
  "optio.log": "STATUS: 50 halfway\nDONE\n",
  "home/.config/tool/settings.json": '{"theme":"dark"}\n',
  "home/.local/share/claude/versions/2.1.0": "x".repeat(4096),
  "home/.cache/blob.bin": "cache",
  "project/node_modules/dep/index.js": "module.exports = 1;\n",
};
const PRIVATE_FILES = {
  "home/.claude/.credentials.json": `{"claudeAiOauth":{"accessToken":"${SECRET}"}}`,
  "home/.claude/projects/-work/abc.jsonl": '{"type":"user","text":"hi"}\n',
  "home/.claude.json": '{"projects":{}}\n',
};

function under(name: string, paths: readonly string[]): boolean {
  return paths.some((p) => name === p || name.startsWith(`${p}/`));
}

describe.each(STORE_KINDS)("snapshots over LocalHost and %s", (_name, wrapStore) => {
  let root: string;
  let host: LocalHost;
  let store: StateStore;

  const newHost = (processId: string) => resumeTestHost(root, processId);
  const plant = async (h: LocalHost) => {
    await writeTree(h.workdir, WORKDIR_FILES);
    await writeTree(h.workdir, PRIVATE_FILES, 0o600);
  };
  const capture = capturer(() => store, RESUME);

  beforeEach(async () => {
    ({ root, store, host } = await snapshotSetup("optio-snapshot", wrapStore));
  });
  afterEach(async () => {
    await host.disconnect();
    await rm(root, { recursive: true, force: true });
  });

  it("puts private paths in their own blob, leaves regenerable and excluded paths out, and restores everything else", async () => {
    await plant(host);
    const record = await capture(host);
    expect(record).toMatchObject({ processId: "p1", agent: "claudecode", endState: "done", encrypted: false });
    expect(record.capturedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(await store.latestSnapshot("p1")).toEqual(record);

    const workdirEntries = await readTarGz(await store.getBlob(record.workdirBlobId));
    const privateEntries = await readTarGz(await store.getBlob(record.privateBlobId));
    const workdirNames = [...workdirEntries.keys()];
    const privateNames = [...privateEntries.keys()];
    expect(workdirNames).toEqual(
      expect.arrayContaining(["project/src/main.ts", "CLAUDE.md", "optio.log", "home/.config/tool/settings.json"]),
    );
    expect(workdirNames.filter((n) => under(n, RESUME.privatePaths))).toEqual([]);
    expect(privateNames.length).toBeGreaterThan(0);
    expect(privateNames.filter((n) => !under(n, RESUME.privatePaths))).toEqual([]);
    expect(privateEntries.get("home/.claude/.credentials.json")).toContain(SECRET);
    for (const names of [workdirNames, privateNames]) {
      expect(names.filter((n) => under(n, RESUME.regenerablePaths ?? []))).toEqual([]);
      expect(names.filter((n) => n.includes("node_modules"))).toEqual([]);
    }
    // The private paths are gone from the workdir once captured.
    expect(await host.stat("home/.claude")).toBeNull();
    expect(await host.stat("home/.claude.json")).toBeNull();

    const fresh = await newHost("p1-restored");
    try {
      await writeFile(path.join(fresh.workdir, "stale.txt"), "from before");
      await restoreSnapshot({ host: fresh, store, record, resume: RESUME });
      const restored = await walk(fresh.workdir);
      expect(restored).toEqual(
        [
          ...Object.keys(PRIVATE_FILES),
          "project/src/main.ts",
          "project/README.md",
          "CLAUDE.md",
          "optio.log",
          "home/.config/tool/settings.json",
        ].sort(),
      );
      for (const [rel, text] of Object.entries({ ...WORKDIR_FILES, ...PRIVATE_FILES })) {
        if (restored.includes(rel)) expect(await readFile(path.join(fresh.workdir, rel), "utf8")).toBe(text);
      }
      expect((await stat(path.join(fresh.workdir, "home/.claude/.credentials.json"))).mode & 0o777).toBe(0o600);
    } finally {
      await fresh.disconnect();
    }
  });

  it("honours a custom exclude list instead of the defaults", async () => {
    await plant(host);
    const record = await capture(host, { exclude: ["*.md"] });
    const names = [...(await readTarGz(await store.getBlob(record.workdirBlobId))).keys()];
    expect(names).toContain("project/node_modules/dep/index.js");
    expect(names.filter((n) => n.endsWith(".md"))).toEqual([]);
    expect(names.filter((n) => under(n, [...RESUME.privatePaths, ...(RESUME.regenerablePaths ?? [])]))).toEqual([]);
  });

  it("encrypts the private blob with AES-256-GCM and decrypts it on restore", async () => {
    const { encrypt, decrypt } = aesGcm();
    await plant(host);
    const record = await capture(host, { encrypt });
    expect(record.encrypted).toBe(true);
    const stored = await readAllBytes(await store.getBlob(record.privateBlobId));
    expect(stored.includes(Buffer.from(SECRET))).toBe(false);
    await expect(readTarGz(stored)).rejects.toThrow();

    await restoreSnapshot({ host, store, record, resume: RESUME, decrypt });
    expect(await readFile(path.join(host.workdir, "home/.claude/.credentials.json"), "utf8")).toContain(SECRET);
    expect(await readFile(path.join(host.workdir, "project/src/main.ts"), "utf8")).toBe(
      WORKDIR_FILES["project/src/main.ts"],
    );
  });

  it("fails with SnapshotDecryptError on a wrong key, before touching the workdir", async () => {
    await plant(host);
    const record = await capture(host, { encrypt: aesGcm().encrypt });
    await writeFile(path.join(host.workdir, "marker.txt"), "still here");
    const error = await restoreSnapshot({ host, store, record, resume: RESUME, decrypt: aesGcm().decrypt }).catch(
      (e: unknown) => e,
    );
    expect(SnapshotDecryptError.isInstance(error)).toBe(true);
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(await readFile(path.join(host.workdir, "marker.txt"), "utf8")).toBe("still here");
  });

  it("refuses an encrypted snapshot when no decrypt is given", async () => {
    await plant(host);
    const record = await capture(host, { encrypt: aesGcm().encrypt });
    const error = await restoreSnapshot({ host, store, record, resume: RESUME }).catch((e: unknown) => e);
    expect(DecryptMissingError.isInstance(error)).toBe(true);
  });

  it("fails with SnapshotRestoreError on a truncated workdir blob and writes nothing outside the workdir", async () => {
    await writeTree(host.workdir, { "big.bin": randomBytes(256 * 1024).toString("base64") });
    await plant(host);
    const good = await capture(host);
    const whole = await readAllBytes(await store.getBlob(good.workdirBlobId));
    const truncatedId = await store.putBlob(whole.subarray(0, Math.floor(whole.length / 2)));
    const record = await store.insertSnapshot({
      ...good,
      workdirBlobId: truncatedId,
      capturedAt: new Date().toISOString(),
    });
    const before = await walk(path.join(root, "tasks"));
    const error = await restoreSnapshot({ host, store, record, resume: RESUME }).catch((e: unknown) => e);
    expect(SnapshotRestoreError.isInstance(error)).toBe(true);
    const after = await walk(path.join(root, "tasks"));
    expect(after.filter((f) => !f.startsWith("p1/workdir/"))).toEqual(
      before.filter((f) => !f.startsWith("p1/workdir/")),
    );
  });

  describe("refuses hostile blobs", () => {
    const hostile: Array<[string, RawEntry[]]> = [
      ["a `..` entry", [{ name: "../escaped.txt", content: "pwned" }]],
      ["a deep `..` entry", [{ name: "project/../../escaped.txt", content: "pwned" }]],
      ["an absolute path", [{ name: "ABSOLUTE", content: "pwned" }]],
      [
        "a symlink pointing out, then a write through it",
        [
          { name: "link", type: "symlink", linkname: "../.." },
          { name: "link/escaped.txt", content: "pwned" },
        ],
      ],
      ["an absolute symlink", [{ name: "home/evil", type: "symlink", linkname: "OUTSIDE" }]],
    ];
    for (const slot of ["workdir", "private"] as const) {
      for (const [what, entries] of hostile) {
        it(`${what} in the ${slot} blob`, async () => {
          const outside = path.join(root, "outside");
          const resolved = entries.map((e) => ({
            ...e,
            name: e.name.replace("ABSOLUTE", path.join(outside, "abs.txt")),
            linkname: e.linkname?.replace("OUTSIDE", outside),
          }));
          const bad = await store.putBlob(await rawTarGz(resolved));
          const ok = await store.putBlob(await rawTarGz([{ name: "fine.txt", content: "ok" }]));
          const record: SnapshotRecord = await store.insertSnapshot({
            processId: "p1",
            agent: "claudecode",
            capturedAt: new Date().toISOString(),
            endState: "done",
            workdirBlobId: slot === "workdir" ? bad : ok,
            privateBlobId: slot === "private" ? bad : ok,
            encrypted: false,
          });
          const error = await restoreSnapshot({ host, store, record, resume: RESUME }).catch((e: unknown) => e);
          expect(SnapshotRestoreError.isInstance(error)).toBe(true);
          expect(PathEscapeError.isInstance((error as Error).cause)).toBe(true);
          expect(
            await walk(root).then((files) => files.filter((f) => f.includes("escaped") || f.startsWith("outside"))),
          ).toEqual([]);
          expect(await stat(path.join(root, "tasks", "escaped.txt")).catch(() => null)).toBeNull();
        });
      }
    }
  });

  it("refuses a workdir blob whose chain of links leaves the workdir on disk, before the private blob can write through it", async () => {
    // Each link is listed before the link it resolves through: only the tree on disk shows that `w` points outside.
    const workdirBlobId = await store.putBlob(
      await rawTarGz([
        { name: "w", type: "symlink", linkname: "v/.." },
        { name: "v", type: "symlink", linkname: "u/.." },
        { name: "u", type: "symlink", linkname: "x/.." },
        { name: "x", type: "symlink", linkname: "." },
      ]),
    );
    const privateBlobId = await store.putBlob(await rawTarGz([{ name: "w/escaped.txt", content: "pwned" }]));
    const record = await store.insertSnapshot({
      processId: "p1",
      agent: "claudecode",
      capturedAt: new Date().toISOString(),
      endState: "done",
      workdirBlobId,
      privateBlobId,
      encrypted: false,
    });
    const error = await restoreSnapshot({ host, store, record, resume: RESUME }).catch((e: unknown) => e);
    expect(SnapshotRestoreError.isInstance(error)).toBe(true);
    expect(PathEscapeError.isInstance((error as Error).cause)).toBe(true);
    expect((await walk(root)).filter((f) => f.includes("escaped"))).toEqual([]);
  });

  it("stops a gzip bomb or too many entries at the caps with RestoreLimitError, leaving the workdir as it was", async () => {
    await writeFile(path.join(host.workdir, "marker.txt"), "still here");
    // 64 MiB of zeros, some 64 KiB compressed.
    const bomb = await store.putBlob(await rawTarGz([{ name: "zeros.bin", content: "\0".repeat(64 * 1024 * 1024) }]));
    const small = await store.putBlob(
      await rawTarGz([
        { name: "a", content: "1" },
        { name: "b", content: "2" },
        { name: "c", content: "3" },
      ]),
    );
    const attempts: Array<[string, string, string, { maxBytes?: number; maxEntries?: number }]> = [
      ["a bomb in the workdir blob", bomb, small, { maxBytes: 8 * 1024 * 1024 }],
      ["a bomb in the private blob", small, bomb, { maxBytes: 8 * 1024 * 1024 }],
      ["too many entries", small, small, { maxEntries: 2 }],
    ];
    for (const [what, workdirBlobId, privateBlobId, limits] of attempts) {
      const record = await store.insertSnapshot({
        processId: "p1",
        agent: "claudecode",
        capturedAt: new Date().toISOString(),
        endState: "done",
        workdirBlobId,
        privateBlobId,
        encrypted: false,
      });
      const error = await restoreSnapshot({ host, store, record, resume: RESUME, limits }).catch((e: unknown) => e);
      expect(SnapshotRestoreError.isInstance(error), what).toBe(true);
      expect(RestoreLimitError.isInstance((error as Error).cause), what).toBe(true);
      expect(await readdir(host.workdir), what).toEqual(["marker.txt"]);
      expect((await readdir(path.join(root, "tasks", "p1"))).sort(), what).toEqual(["workdir"]);
    }
  });

  it("prunes to the newest five and deletes the older snapshots' blobs", async () => {
    const records: SnapshotRecord[] = [];
    for (let i = 0; i < 7; i++) {
      await plant(host);
      await writeFile(path.join(host.workdir, "round.txt"), String(i));
      records.push(await capture(host));
    }
    const removed = await pruneSnapshots(store, "p1");
    expect(removed.map((r) => r.id).sort()).toEqual(
      records
        .slice(0, 2)
        .map((r) => r.id)
        .sort(),
    );
    const kept = await store.listSnapshots("p1");
    expect(kept.map((r) => r.id)).toEqual(
      records
        .slice(2)
        .map((r) => r.id)
        .reverse(),
    );
    for (const r of removed) {
      await expect(store.getBlob(r.workdirBlobId)).rejects.toThrow();
      await expect(store.getBlob(r.privateBlobId)).rejects.toThrow();
    }
    for (const r of kept) expect((await readAllBytes(await store.getBlob(r.workdirBlobId))).length).toBeGreaterThan(0);
    expect(await pruneSnapshots(store, "p1")).toEqual([]);
  });
});
