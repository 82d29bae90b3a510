import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { SSHConfigInput } from "@optio/host";
import { lineFrom } from "@optio/host/testing";

const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));
const DIST = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const DIST_TESTING = fileURLToPath(new URL("../dist/testing.js", import.meta.url));

export interface ChildWorkerOptions {
  redisUrl: string;
  databaseUrl: string;
  queueName: string;
  /** Where the scripted kind keeps its agents' files. */
  root: string;
  workerId: string;
  concurrency: number;
  /** SSH hosts by name, as `startWorker` takes them. */
  hosts?: Record<string, SSHConfigInput>;
  /** How often the worker sweeps orphan blobs and how old they must be, as `startWorker`'s `blobSweepEveryMs` and `blobGraceMs`. */
  blobSweep?: { everyMs: number; graceMs: number };
  /** A module whose `kinds` export the worker runs instead of the scripted kind. */
  kindsModule?: string;
}

/**
 * A separate Node process running a worker of the built package with the
 * scripted task kind (or those of `kindsModule`) and a PostgresStateStore. It prints `READY:` once it
 * takes tasks; a `close` or `drain` line on its stdin closes it (handing over
 * or draining its tasks), after which it prints `CLOSED:` and exits.
 */
export function spawnWorkerProcess(options: ChildWorkerOptions): ChildProcess {
  const script = `const { startWorker } = await import(${JSON.stringify(DIST)});
const { scriptedTaskKind } = await import(${JSON.stringify(DIST_TESTING)});
const { PostgresStateStore } = await import("@optio/store-postgres");
const o = ${JSON.stringify(options)};
const kinds = o.kindsModule ? (await import(o.kindsModule)).kinds : [scriptedTaskKind(o.root)];
const store = new PostgresStateStore({ connectionString: o.databaseUrl });
const worker = await startWorker({ redisUrl: o.redisUrl, queueName: o.queueName, kinds, store, concurrency: o.concurrency, hosts: o.hosts ?? {}, workerId: o.workerId, lockMs: 4000, stalledIntervalMs: 1000, ...(o.blobSweep ? { blobSweepEveryMs: o.blobSweep.everyMs, blobGraceMs: o.blobSweep.graceMs } : {}) });
process.stdout.write("READY:" + worker.id + "\\n");
process.stdin.setEncoding("utf8");
process.stdin.on("data", async (line) => {
  await worker.close({ drain: line.startsWith("drain") });
  await store.close();
  process.stdout.write("CLOSED:\\n");
  process.exit(0);
});`;
  return spawn(process.execPath, ["--input-type=module", "-e", script], {
    cwd: PACKAGE_DIR,
    stdio: ["pipe", "pipe", "inherit"],
  });
}

/**
 * A worker process per id, as `spawnWorkerProcess` starts them, each added to
 * `children` at once (so a test's cleanup ends it even when the start fails);
 * resolves once every one takes tasks.
 */
export async function startWorkerProcesses(
  options: Omit<ChildWorkerOptions, "workerId">,
  ids: readonly string[],
  children: ChildProcess[],
): Promise<ChildProcess[]> {
  const started = ids.map((workerId) => spawnWorkerProcess({ ...options, workerId }));
  children.push(...started);
  await Promise.all(started.map((child) => lineFrom(child, "READY:")));
  return started;
}

/** A separate Node process that cancels `processId` through a client of the built package, printing `CANCELLED:`. */
export function spawnCancelProcess(redisUrl: string, queueName: string, processId: string): ChildProcess {
  const script = `const { connectTaskQueue } = await import(${JSON.stringify(DIST)});
const queue = connectTaskQueue({ redisUrl: ${JSON.stringify(redisUrl)}, queueName: ${JSON.stringify(queueName)} });
await queue.cancelTask(${JSON.stringify(processId)});
await queue.close();
process.stdout.write("CANCELLED:\\n");`;
  return spawn(process.execPath, ["--input-type=module", "-e", script], {
    cwd: PACKAGE_DIR,
    stdio: ["ignore", "pipe", "inherit"],
  });
}
