import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AdapterContext, HookContext } from "@optio/agents";
import { createHost, type SSHConfigInput } from "@optio/host";

export interface LocalAdapterContext extends AdapterContext {
  readonly root: string;
  /** Every progress message, in order. */
  readonly progress: string[];
  dispose(): Promise<void>;
}

/**
 * A real host (local, or over SSH when given) in a temp task root, and the part of a HookContext the
 * adapter's install, plant and resume checks use (host, progress, signal).
 */
export async function localAdapterContext(processId = "t1", ssh?: SSHConfigInput): Promise<LocalAdapterContext> {
  const root = await mkdtemp(join(tmpdir(), "optio-cc-"));
  const tasks = join(root, "tasks");
  const host = createHost({ consumer: "cctest", processId, ssh, env: { CCTEST_TASK_ROOT: tasks, CCTEST_REMOTE_TASK_ROOT: tasks } });
  await host.connect();
  const progress: string[] = [];
  const signal = new AbortController().signal;
  const hook = { host, workdir: host.workdir, signal, reportProgress: (_p: number | null, message?: string) => progress.push(message ?? "") };
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

/** A stand-in `claude`: prints what the real one prints for `--version`. */
export const FAKE_CLAUDE = '#!/bin/sh\nif [ "$1" = --version ]; then echo "2.1.332 (Claude Code)"; exit 0; fi\necho "fake claude $*"\n';

/** The version the real-binary tests pin, so CI reuses ~/.cache/optio instead of following `latest`. */
export const REAL_CLAUDE_VERSION = "2.1.332";
