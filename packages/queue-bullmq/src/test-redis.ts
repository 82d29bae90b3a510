import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { exitOf, launchOnFreePort, printed } from "@optio/host/testing";

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
  let child: ChildProcess | undefined;
  let port = 0;
  let stopped = false;

  const launch = async (on: number) => {
    const started = spawn(
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
    );
    started.once("error", () => {});
    try {
      await printed(started, "stdout", "Ready to accept connections", START_BOUND_MS);
    } catch (error) {
      started.kill("SIGKILL");
      await exitOf(started);
      throw error;
    }
    child = started;
  };

  const halt = async () => {
    const running = child;
    child = undefined;
    if (!running) return;
    // SIGTERM is redis' clean shutdown: the append-only file is flushed, so resume() finds every key again.
    running.kill("SIGTERM");
    await exitOf(running);
  };

  try {
    port = await launchOnFreePort(launch);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    host: "127.0.0.1",
    port,
    dir,
    url: `redis://127.0.0.1:${port}`,
    halt,
    async resume() {
      if (stopped) throw new Error("this test redis was stopped");
      if (!child) await launch(port);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await halt();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
