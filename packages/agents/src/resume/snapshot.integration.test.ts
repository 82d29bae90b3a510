import { PathEscapeError, RemoteHost } from "@optio/host";
import { startTestSshd, type TestSshd } from "@optio/host/testing";
import { randomBytes } from "node:crypto";
import { readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { SeedManifest } from "../spec/agent-adapter.js";
import { FileStateStore } from "../store/file-state-store.js";
import { captureSeed, mergeSeed } from "../seeds/seeds.js";
import { readAllBytes } from "./blob-bytes.js";
import { SnapshotDecryptError, SnapshotRestoreError } from "./resume-errors.js";
import { appendResumeLog, rotateOptioLog } from "./resume-log.js";
import { captureSnapshot, pruneSnapshots, restoreSnapshot, type SnapshotPaths } from "./snapshot.js";
import { aesGcm, rawTarGz, readTarGz, tempDir } from "./test-archives.js";

const SECRET = "sk-ant-oat01-REMOTE-TEST-CREDENTIAL";
const RESUME: SnapshotPaths = {
  privatePaths: ["home/.claude", "home/.claude.json"],
  regenerablePaths: ["home/.local/share/claude"],
};
const FILES: Record<string, string | Buffer> = {
  "project/main.ts": "export {};\n",
  "project/data.bin": randomBytes(512 * 1024),
  "home/.config/x/settings.json": "{}",
  "home/.local/share/claude/versions/1.0.0": randomBytes(64 * 1024),
  "home/.claude/.credentials.json": `{"token":"${SECRET}"}`,
  "home/.claude/projects/-w/t.jsonl": '{"type":"user"}\n',
  "home/.claude.json": '{"projects":{"/old":{}}}',
  "optio.log": "DONE\n",
};

function under(name: string, paths: readonly string[]): boolean {
  return paths.some((p) => name === p || name.startsWith(`${p}/`));
}

describe("snapshots and seeds over RemoteHost (real sshd)", () => {
  let sshd: TestSshd;
  let root: string;
  let store: FileStateStore;
  const hosts: RemoteHost[] = [];

  const remote = async (processId: string) => {
    const host = new RemoteHost({
      consumer: "optio-resume-it",
      processId,
      ssh: sshd.sshConfig(),
      env: { OPTIO_RESUME_IT_REMOTE_TASK_ROOT: path.join(root, "tasks") },
    });
    await host.connect();
    hosts.push(host);
    return host;
  };
  const plant = async (host: RemoteHost) => {
    for (const [rel, data] of Object.entries(FILES)) {
      await host.mkdir(path.posix.dirname(rel));
      await host.writeFile(rel, data, rel.includes("credentials") ? { mode: 0o600 } : {});
    }
  };

  beforeAll(async () => {
    sshd = await startTestSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });
  beforeEach(async () => {
    root = await tempDir("optio-resume-it");
    store = new FileStateStore({ dir: path.join(root, "store") });
  });
  afterEach(async () => {
    for (const host of hosts.splice(0)) await host.disconnect();
    await rm(root, { recursive: true, force: true });
  });

  it("captures with encryption and restores into a fresh remote task dir", async () => {
    const { encrypt, decrypt } = aesGcm();
    const source = await remote("p1");
    await plant(source);
    const record = await captureSnapshot({
      host: source,
      store,
      agent: "claudecode",
      processId: "p1",
      endState: "done",
      resume: RESUME,
      encrypt,
    });
    expect(record.encrypted).toBe(true);
    expect(await source.stat("home/.claude")).toBeNull();

    const workdirNames = [...(await readTarGz(await store.getBlob(record.workdirBlobId))).keys()];
    expect(workdirNames).toEqual(
      expect.arrayContaining(["project/main.ts", "project/data.bin", "home/.config/x/settings.json", "optio.log"]),
    );
    expect(workdirNames.filter((n) => under(n, [...RESUME.privatePaths, ...(RESUME.regenerablePaths ?? [])]))).toEqual(
      [],
    );
    const privateStored = await readAllBytes(await store.getBlob(record.privateBlobId));
    expect(privateStored.includes(Buffer.from(SECRET))).toBe(false);
    const privateNames = [...(await readTarGz(Buffer.from(await decrypt(privateStored)))).keys()];
    expect(privateNames.filter((n) => !under(n, RESUME.privatePaths))).toEqual([]);
    expect(privateNames).toContain("home/.claude/.credentials.json");

    const target = await remote("p1-restored");
    await target.writeText("stale.txt", "cleared by the restore");
    await restoreSnapshot({ host: target, store, record, resume: RESUME, decrypt });
    expect(await target.stat("stale.txt")).toBeNull();
    expect(await target.stat("home/.local/share/claude")).toBeNull();
    for (const [rel, data] of Object.entries(FILES)) {
      if (under(rel, RESUME.regenerablePaths ?? [])) continue;
      expect(Buffer.compare(await target.readFile(rel), Buffer.from(data)), rel).toBe(0);
    }
    expect((await target.stat("home/.claude/.credentials.json"))?.mode).toBe(0o600);

    await rotateOptioLog(target);
    await appendResumeLog(target, ["CLAUDE.md"]);
    expect((await target.readFile("optio.log")).toString()).toBe("");
    expect((await target.readFile("optio.log.old")).toString()).toBe("DONE\n");
    expect((await target.readFile("resume.log")).toString()).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z REFRESHED:CLAUDE\.md\n$/,
    );

    const wrong = await restoreSnapshot({
      host: target,
      store,
      record,
      resume: RESUME,
      decrypt: aesGcm().decrypt,
    }).catch((e: unknown) => e);
    expect(SnapshotDecryptError.isInstance(wrong)).toBe(true);
  });

  it("prunes remote captures to the newest five", async () => {
    const host = await remote("p2");
    const ids: string[] = [];
    await plant(host);
    for (let i = 0; i < 6; i++) {
      ids.push(
        (await captureSnapshot({ host, store, agent: "claudecode", processId: "p2", endState: "done", resume: RESUME }))
          .id,
      );
    }
    const removed = await pruneSnapshots(store, "p2");
    expect(removed.map((r) => r.id)).toEqual([ids[0]]);
    await expect(store.getBlob(removed[0]!.workdirBlobId)).rejects.toThrow();
    expect((await store.listSnapshots("p2")).map((r) => r.id)).toEqual(ids.slice(1).reverse());
  });

  it("refuses hostile and truncated blobs on the remote side, writing nothing outside the workdir", async () => {
    const host = await remote("p3");
    const ok = await store.putBlob(await rawTarGz([{ name: "fine.txt", content: "ok" }]));
    const blobs = {
      dotdot: await rawTarGz([{ name: "../../escaped.txt", content: "pwned" }]),
      symlink: await rawTarGz([
        { name: "out", type: "symlink", linkname: "../../.." },
        { name: "out/escaped.txt", content: "pwned" },
      ]),
      truncated: (await rawTarGz([{ name: "big.bin", content: randomBytes(200_000).toString("hex") }])).subarray(
        0,
        50_000,
      ),
    };
    for (const [what, bytes] of Object.entries(blobs)) {
      const bad = await store.putBlob(bytes);
      const record = await store.insertSnapshot({
        processId: "p3",
        agent: "claudecode",
        capturedAt: new Date().toISOString(),
        endState: "done",
        workdirBlobId: bad,
        privateBlobId: ok,
        encrypted: false,
      });
      const error = await restoreSnapshot({ host, store, record, resume: RESUME }).catch((e: unknown) => e);
      expect(SnapshotRestoreError.isInstance(error), what).toBe(true);
      if (what !== "truncated") expect(PathEscapeError.isInstance((error as Error).cause), what).toBe(true);
    }
    for (const dir of [root, path.join(root, "tasks"), host.taskDir]) {
      expect(await stat(path.join(dir, "escaped.txt")).catch(() => null)).toBeNull();
    }
  });

  it("captures a seed from one remote task and merges it into another", async () => {
    const source = await remote("seed-source");
    await plant(source);
    const manifest: SeedManifest = {
      include: ["home/.claude/.credentials.json", "home/.claude.json"],
      async consume(ctx) {
        await ctx.host.writeText("home/.claude.json", JSON.stringify({ projects: { [ctx.workdir]: {} } }));
      },
    };
    const { encrypt, decrypt } = aesGcm();
    const seed = await captureSeed({
      host: source,
      store,
      agent: "claudecode",
      sourceProcessId: "seed-source",
      manifest,
      encrypt,
    });
    const target = await remote("seed-target");
    await mergeSeed({
      host: target,
      store,
      seedId: seed.id,
      manifest,
      decrypt,
      adapterContext: {
        host: target,
        workdir: target.workdir,
        home: `${target.workdir}/home`,
        signal: new AbortController().signal,
        get hook(): never {
          throw new Error("the seed tests never use the hook context");
        },
      },
    });
    expect((await target.readFile("home/.claude/.credentials.json")).toString()).toContain(SECRET);
    expect(JSON.parse((await target.readFile("home/.claude.json")).toString())).toEqual({
      projects: { [target.workdir]: {} },
    });
    expect(await target.stat("home/.claude/projects")).toBeNull();
    expect(await target.stat("project")).toBeNull();
    expect(await readFile(path.join(target.workdir, "home/.claude/.credentials.json"), "utf8")).toContain(SECRET);
  });
});
