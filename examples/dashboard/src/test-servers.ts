import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { installFromRegistry } from "@optio/agents/install";
import { claudeRegistryPackage } from "@optio/claudecode/install";
import { LocalHost } from "@optio/host";
import { lineFrom } from "@optio/host/testing";
import { type Browser, chromium } from "playwright-core";

const OPTIO = fileURLToPath(new URL("../node_modules/.bin/optio", import.meta.url));

/** The Debian Chromium, headless, as every page test of the dashboard uses it. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * An agent dir holding the real claude at the version the adapter's
 * real-binary tests pin, linked from the shared cache; `scratch` holds the
 * installing host's task dir.
 */
export async function pinnedClaudeDir(dir: string, scratch: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const host = new LocalHost({
    consumer: "dashboard-test",
    processId: "install",
    env: { DASHBOARD_TEST_TASK_ROOT: scratch },
  });
  await host.connect();
  try {
    const spec = { ...claudeRegistryPackage, version: "2.1.332" };
    const { binaryPath } = await installFromRegistry(
      { host, reportProgress: () => {}, signal: new AbortController().signal },
      spec,
    );
    await symlink(binaryPath, join(dir, "claude"));
  } finally {
    await host.disconnect();
  }
  return dir;
}

export interface WorkerSettings {
  redisUrl: string;
  databaseUrl: string;
  /** The task kinds module; the dashboard's own by default. */
  kinds?: string;
  env: NodeJS.ProcessEnv;
}

/** A real `optio worker` process taking one task at a time, as a user starts it on a machine; resolves once it takes tasks. */
export async function startOptioWorker(id: string, settings: WorkerSettings): Promise<ChildProcess> {
  const args = ["worker", "--redis-url", settings.redisUrl, "--database-url", settings.databaseUrl];
  if (settings.kinds) args.push("--kinds", settings.kinds);
  else args.push("--kinds", fileURLToPath(new URL("./queue-kinds.mjs", import.meta.url)));
  args.push("--worker-id", id, "--concurrency", "1");
  const worker = spawn(OPTIO, args, { env: settings.env, stdio: ["ignore", "pipe", "inherit"] });
  try {
    await lineFrom(worker, "worker ");
  } catch (error) {
    worker.kill("SIGKILL");
    throw error;
  }
  return worker;
}
