import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestSshd, type TestSshd } from "@optio/host/testing";
import { afterAll, beforeAll } from "vitest";
import { FileStateStore } from "../../store/file-state-store.js";

export interface ScriptedHosts {
  readonly sshd: TestSshd;
  readonly store: FileStateStore;
  /** Where the scripted adapter puts its task dirs on the local host. */
  localRoot(): string;
  /** Where it puts them over SSH. */
  remoteRoot(): string;
}

/**
 * For a test file that runs scripted tasks on both hosts: starts a test sshd
 * and points the scripted adapter's task roots and a state store into a fresh
 * temp dir, all removed after the file's tests.
 */
export function useScriptedHosts(prefix: string): ScriptedHosts {
  let root = "";
  let sshd: TestSshd | undefined;
  let store: FileStateStore | undefined;
  beforeAll(async () => {
    // Started before the roots are in the environment: the server inherits it, and would match a process scan.
    sshd = await startTestSshd();
    root = await mkdtemp(join(tmpdir(), prefix));
    process.env.OPTIO_SCRIPTED_TASK_ROOT = join(root, "tasks");
    process.env.OPTIO_SCRIPTED_REMOTE_TASK_ROOT = join(root, "remote-tasks");
    store = new FileStateStore({ dir: join(root, "state") });
  });
  afterAll(async () => {
    delete process.env.OPTIO_SCRIPTED_TASK_ROOT;
    delete process.env.OPTIO_SCRIPTED_REMOTE_TASK_ROOT;
    await sshd?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });
  return {
    get sshd() {
      return sshd!;
    },
    get store() {
      return store!;
    },
    localRoot: () => join(root, "tasks"),
    remoteRoot: () => join(root, "remote-tasks"),
  };
}
