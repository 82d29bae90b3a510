import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestSshd, type TestSshd } from "@optio/host/testing";
import { afterAll, beforeAll } from "vitest";

export interface ScriptedTaskRoots {
  /** The temp dir of the whole file. */
  root(): string;
  sshd(): TestSshd;
  /** The task root of each host kind. */
  taskRoot(kind: "local" | "ssh"): string;
}

/** A test sshd and task roots of their own for the scripted agent, for every test of the calling file. */
export function useScriptedTaskRoots(prefix: string): ScriptedTaskRoots {
  let root = "";
  let sshd: TestSshd | null = null;
  beforeAll(async () => {
    // Started before the roots are in the environment: the server inherits it, and would match the process scan.
    sshd = await startTestSshd();
    root = await mkdtemp(join(tmpdir(), prefix));
    process.env.OPTIO_SCRIPTED_TASK_ROOT = join(root, "tasks");
    process.env.OPTIO_SCRIPTED_REMOTE_TASK_ROOT = join(root, "remote-tasks");
  });
  afterAll(async () => {
    delete process.env.OPTIO_SCRIPTED_TASK_ROOT;
    delete process.env.OPTIO_SCRIPTED_REMOTE_TASK_ROOT;
    await sshd?.stop();
    await rm(root, { recursive: true, force: true });
  });
  return {
    root: () => root,
    sshd: () => {
      if (!sshd) throw new Error("the test sshd is not started yet");
      return sshd;
    },
    taskRoot: (kind) => join(root, kind === "local" ? "tasks" : "remote-tasks"),
  };
}
