import { type Host, LocalHost, RemoteHost } from "@optio/host";
import { startTestSshd, type TestSshd } from "@optio/host/testing";
import { rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FileStateStore } from "../store/file-state-store.js";
import { captureSnapshot, restoreSnapshot, type SnapshotPaths } from "./snapshot.js";
import { readTarGz, tempDir } from "./test-archives.js";

const SESSIONS = "home/.codex/sessions";
const RESUME: SnapshotPaths = {
  privatePaths: [
    "home/.codex/auth.json",
    `${SESSIONS}/**/*.jsonl`,
    `!${SESSIONS}/**/*.tmp.jsonl`,
    "home/.local/share/opencode/*.db",
  ],
  regenerablePaths: [`${SESSIONS}/cache`],
};
/** A name a shell would expand or split: the listing must pass it through as it is. */
const ODD = `${SESSIONS}/it's $(touch pwned) [1].jsonl`;
const PRIVATE = {
  "home/.codex/auth.json": '{"token":"sk-test"}',
  [`${SESSIONS}/2026/12/07/rollout-1.jsonl`]: '{"turn":1}\n',
  [`${SESSIONS}/2026/12/08/rollout-2.jsonl`]: '{"turn":2}\n',
  [ODD]: "odd\n",
  "home/.local/share/opencode/opencode.db": "db",
};
const SHARED = {
  "project/main.ts": "export {};\n",
  "home/.codex/config.toml": "model = 'x'\n",
  [`${SESSIONS}/2026/12/07/notes.txt`]: "not a transcript\n",
  [`${SESSIONS}/2026/12/07/half.tmp.jsonl`]: "left out by a ! pattern\n",
  "home/.local/share/opencode/opencode.db-wal": "wal",
};
const REGENERABLE = { [`${SESSIONS}/cache/c.jsonl`]: "cache\n" };

const files = (entries: Map<string, string | null>) => [...entries].filter(([, v]) => v !== null).map(([k]) => k);

describe.each(["local", "remote"] as const)("private path patterns over a %s host", (kind) => {
  let sshd: TestSshd | undefined;
  let root: string;
  let store: FileStateStore;
  const hosts: Host[] = [];

  const newHost = async (processId: string): Promise<Host> => {
    const env = {
      OPTIO_PATTERNS_IT_TASK_ROOT: path.join(root, "tasks"),
      OPTIO_PATTERNS_IT_REMOTE_TASK_ROOT: path.join(root, "remote"),
    };
    const host =
      kind === "local"
        ? new LocalHost({ consumer: "optio-patterns-it", processId, env })
        : new RemoteHost({ consumer: "optio-patterns-it", processId, ssh: sshd!.sshConfig(), env });
    await host.connect();
    hosts.push(host);
    return host;
  };

  beforeAll(async () => {
    if (kind === "remote") sshd = await startTestSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });
  beforeEach(async () => {
    root = await tempDir("optio-patterns-it");
    store = new FileStateStore({ dir: path.join(root, "store") });
  });
  afterEach(async () => {
    for (const host of hosts.splice(0)) await host.disconnect();
    await rm(root, { recursive: true, force: true });
  });

  it("captures what the patterns match, keeps excluded files with the workdir, drops regenerable ones, and restores", async () => {
    const source = await newHost("p1");
    for (const [rel, text] of Object.entries({ ...PRIVATE, ...SHARED, ...REGENERABLE })) {
      await source.mkdir(path.posix.dirname(rel));
      await source.writeText(rel, text);
    }
    const record = await captureSnapshot({
      host: source,
      store,
      agent: "codex",
      processId: "p1",
      endState: "done",
      resume: RESUME,
    });

    const privateFiles = files(await readTarGz(await store.getBlob(record.privateBlobId)));
    expect(privateFiles.sort()).toEqual(Object.keys(PRIVATE).sort());
    const workdirFiles = files(await readTarGz(await store.getBlob(record.workdirBlobId)));
    expect(workdirFiles.sort()).toEqual(Object.keys(SHARED).sort());
    // Captured private files leave the workdir; the rest stays as it was.
    for (const rel of Object.keys(PRIVATE)) expect(await source.stat(rel), rel).toBeNull();
    for (const rel of Object.keys(SHARED)) expect(await source.stat(rel), rel).not.toBeNull();
    expect(await source.stat("pwned")).toBeNull();
    expect(await source.stat(`${SESSIONS}/pwned`)).toBeNull();

    const target = await newHost("p1-restored");
    await restoreSnapshot({ host: target, store, record, resume: RESUME });
    for (const [rel, text] of Object.entries({ ...PRIVATE, ...SHARED })) {
      expect((await target.readFile(rel)).toString(), rel).toBe(text);
    }
    expect(await target.stat(`${SESSIONS}/cache`)).toBeNull();
  });

  it("captures an empty private blob when no pattern matches anything", async () => {
    const source = await newHost("p2");
    await source.mkdir("project");
    await source.writeText("project/main.ts", "export {};\n");
    const record = await captureSnapshot({
      host: source,
      store,
      agent: "codex",
      processId: "p2",
      endState: "done",
      resume: RESUME,
    });
    expect(files(await readTarGz(await store.getBlob(record.privateBlobId)))).toEqual([]);
    expect(files(await readTarGz(await store.getBlob(record.workdirBlobId)))).toEqual(["project/main.ts"]);
  });
});
