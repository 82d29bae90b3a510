import { spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startRestartableServer } from "@optio/host/testing";

const START_BOUND_MS = 15_000;

/** A private redis-server on 127.0.0.1 for tests, in a temp dir (its append-only file lives there). */
export interface TestRedis {
  readonly host: "127.0.0.1";
  readonly port: number;
  /** The temp dir the server runs in. */
  readonly dir: string;
  /** `redis://127.0.0.1:port`. */
  readonly url: string;
  /** Stops the server (a clean shutdown), keeping its data and port, as a restart or an outage would. */
  halt(): Promise<void>;
  /** Starts a halted server again on the same port. */
  resume(): Promise<void>;
  /** Stops the server and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts Debian's `redis-server` on a free port of 127.0.0.1 in a temp dir,
 * for one test file; `stop()` ends it and removes the dir.
 */
export async function startTestRedis(): Promise<TestRedis> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "optio-redis-"));
  const server = await startRestartableServer({
    name: "redis",
    dir,
    spawn: (on) =>
      spawn(
        "redis-server",
        [
          "--bind",
          "127.0.0.1",
          "--port",
          String(on),
          "--dir",
          dir,
          "--save",
          "",
          "--appendonly",
          "yes",
          "--protected-mode",
          "yes",
          "--unixsocket",
          "",
        ],
        { cwd: dir, stdio: ["ignore", "pipe", "inherit"] },
      ),
    ready: { stream: "stdout", marker: "Ready to accept connections", boundMs: START_BOUND_MS },
    stopSignal: "SIGTERM",
  });
  return { ...server, host: "127.0.0.1", dir, url: `redis://127.0.0.1:${server.port}` };
}
