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
  const root = await mkdtemp(join(tmpdir(), "optio-oc-"));
  const tasks = join(root, "tasks");
  const host = createHost({ consumer: "octest", processId, ssh, env: { OCTEST_TASK_ROOT: tasks, OCTEST_REMOTE_TASK_ROOT: tasks } });
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

/**
 * A stand-in `opencode`: `--version` prints a version the way the real one
 * does; `session list --format json` prints `$XDG_DATA_HOME/opencode/sessions.json`
 * when the test put one there (the real one reads its database).
 */
export const FAKE_OPENCODE =
  '#!/bin/sh\nif [ "$1" = --version ]; then echo "1.18.34"; exit 0; fi\n' +
  'if [ "$1 $2" = "session list" ]; then cat "$XDG_DATA_HOME/opencode/sessions.json" 2>/dev/null; exit 0; fi\necho "fake opencode $*"\n';

/** The version the real-binary tests pin, so CI reuses ~/.cache/optio instead of following `latest`. */
export const REAL_OPENCODE_VERSION = "1.18.34";
