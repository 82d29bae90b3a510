import type { LocalHost } from "@optio/host";
import { mkdir, readFile, readlink, rm, symlink } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FileStateStore } from "../store/file-state-store.js";
import { captureSnapshot, restoreSnapshot, type SnapshotPaths } from "./snapshot.js";
import { readTarGz, tempDir, writeTree } from "./test-archives.js";
import { resumeTestHost } from "./test-snapshot-setup.js";

const SECRET = "sk-ant-oat01-THIS-IS-THE-TEST-CREDENTIAL";
const RESUME: SnapshotPaths = {
  privatePaths: ["home/.claude", "home/.claude.json"],
  regenerablePaths: ["home/.local/share/claude", "home/.cache", "home/.claude/cache"],
};

describe("snapshots and the links a restore would refuse", () => {
  let root: string;
  let host: LocalHost;
  let store: FileStateStore;

  const newHost = (processId: string) => resumeTestHost(root, processId);

  beforeEach(async () => {
    root = await tempDir("optio-snapshot-links");
    store = new FileStateStore({ dir: path.join(root, "store") });
    host = await newHost("p1");
    await writeTree(host.workdir, { "project/src/main.ts": "export {};\n", "home/.claude.json": "{}\n" });
    await writeTree(host.workdir, { "home/.claude/.credentials.json": `{"token":"${SECRET}"}` }, 0o600);
  });
  afterEach(async () => {
    await host.disconnect();
    await rm(root, { recursive: true, force: true });
  });

  const capture = (extra: Partial<Parameters<typeof captureSnapshot>[0]> = {}) =>
    captureSnapshot({ host, store, agent: "claudecode", processId: "p1", endState: "done", resume: RESUME, ...extra });

  it("leaves out and reports the links a restore would refuse, and regenerable paths inside private ones, so the snapshot restores", async () => {
    await writeTree(host.workdir, { "home/.claude/cache/big.bin": "regenerable", "project/weXird1": "kept" });
    const links: Array<[string, string]> = [
      ["home/.claude/tmp/arg0/claude", "/usr/bin/env"],
      ["project/we*ird[1]", "/etc"],
      ["project/up", "../../outside"],
      ["project/main-link", "src/main.ts"],
      ["project/.venv/bin/python", "/usr/bin/python3"],
    ];
    for (const [link, target] of links) {
      await mkdir(path.dirname(path.join(host.workdir, link)), { recursive: true });
      await symlink(target, path.join(host.workdir, link));
    }
    const leftOut: string[] = [];
    const record = await capture({ onLinkLeftOut: (link) => leftOut.push(`${link.path} -> ${link.target}`) });
    // The .venv link is never archived (a default exclude), so it is not reported.
    expect(leftOut.sort()).toEqual([
      "home/.claude/tmp/arg0/claude -> /usr/bin/env",
      "project/up -> ../../outside",
      "project/we*ird[1] -> /etc",
    ]);

    const privateNames = [...(await readTarGz(await store.getBlob(record.privateBlobId))).keys()];
    expect(privateNames).toContain("home/.claude/.credentials.json");
    expect(
      privateNames.filter((n) => n.startsWith("home/.claude/cache") || n === "home/.claude/tmp/arg0/claude"),
    ).toEqual([]);
    const workdirNames = [...(await readTarGz(await store.getBlob(record.workdirBlobId))).keys()];
    expect(workdirNames).toEqual(expect.arrayContaining(["project/main-link", "project/weXird1"]));
    expect(workdirNames.filter((n) => n === "project/we*ird[1]" || n === "project/up")).toEqual([]);

    const fresh = await newHost("p1-links");
    try {
      await restoreSnapshot({ host: fresh, store, record, resume: RESUME });
      expect(await readlink(path.join(fresh.workdir, "project/main-link"))).toBe("src/main.ts");
      expect(await readFile(path.join(fresh.workdir, "home/.claude/.credentials.json"), "utf8")).toContain(SECRET);
      expect(await fresh.stat("home/.claude/cache")).toBeNull();
    } finally {
      await fresh.disconnect();
    }
  });
});
