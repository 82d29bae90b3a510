import { LocalHost } from "@optio/host";
import path from "node:path";
import type { SnapshotRecord, StateStore } from "../spec/state-store.js";
import { FileStateStore } from "../store/file-state-store.js";
import { type CaptureSnapshotOptions, captureSnapshot, type SnapshotPaths } from "./snapshot.js";
import { tempDir } from "./test-archives.js";

/** A connected LocalHost for `processId` whose task root is `<root>/tasks`. */
export async function resumeTestHost(root: string, processId: string): Promise<LocalHost> {
  const host = new LocalHost({
    consumer: "optio-resume-test",
    processId,
    env: { OPTIO_RESUME_TEST_TASK_ROOT: path.join(root, "tasks") },
  });
  await host.connect();
  return host;
}

/** A temp dir holding a FileStateStore in `store/` (seen through `wrap`) and the task root of a connected host "p1". */
export async function snapshotSetup(
  prefix: string,
  wrap: (inner: FileStateStore) => StateStore,
): Promise<{ root: string; storeDir: string; store: StateStore; host: LocalHost }> {
  const root = await tempDir(prefix);
  const storeDir = path.join(root, "store");
  return { root, storeDir, store: wrap(new FileStateStore({ dir: storeDir })), host: await resumeTestHost(root, "p1") };
}

/** Captures a snapshot of process "p1" (claudecode, ended done) from a host into `store()`, `extra` on top. */
export function capturer(
  store: () => StateStore,
  resume: SnapshotPaths,
): (host: LocalHost, extra?: Partial<CaptureSnapshotOptions>) => Promise<SnapshotRecord> {
  return (host, extra = {}) =>
    captureSnapshot({ host, store: store(), agent: "claudecode", processId: "p1", endState: "done", resume, ...extra });
}
