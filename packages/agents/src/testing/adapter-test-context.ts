import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHost, type SSHConfigInput } from "@optio/host";
import type { AdapterContext } from "../spec/agent-adapter.js";
import type { HookContext } from "../spec/hook-context.js";

export interface AdapterTestContext extends AdapterContext {
  /** The temp dir holding the task root; removed by dispose. */
  readonly root: string;
  /** Every progress message, in order. */
  readonly progress: string[];
  dispose(): Promise<void>;
}

/**
 * For an adapter's unit tests: a real connected host (local, or over SSH when
 * given) in a temp task root, with a created 0700 HOME, and the part of a
 * HookContext that install, plant and resume checks use (host, progress, signal).
 */
export async function adapterTestContext(
  options: { processId?: string; ssh?: SSHConfigInput } = {},
): Promise<AdapterTestContext> {
  const root = await mkdtemp(join(tmpdir(), "optio-adapter-test-"));
  const tasks = join(root, "tasks");
  const host = createHost({
    consumer: "optio-adapter-test",
    processId: options.processId ?? "t1",
    ssh: options.ssh,
    env: { OPTIO_ADAPTER_TEST_TASK_ROOT: tasks, OPTIO_ADAPTER_TEST_REMOTE_TASK_ROOT: tasks },
  });
  await host.connect();
  const progress: string[] = [];
  const signal = new AbortController().signal;
  const hook = {
    host,
    workdir: host.workdir,
    signal,
    reportProgress: (_p: number | null, message?: string) => progress.push(message ?? ""),
  };
  const home = join(host.workdir, "home");
  await host.mkdir(home, { mode: 0o700 });
  return {
    host,
    hook: hook as unknown as HookContext,
    workdir: host.workdir,
    home,
    signal,
    root,
    progress,
    async dispose() {
      await host.disconnect();
      await rm(root, { recursive: true, force: true });
    },
  };
}
