import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { freePort } from "@optio/host/testing";

const START_BOUND_MS = 15_000;
const PORT_ATTEMPTS = 5;

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

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Resolves once the server logs that it accepts connections; rejects with its log when it exits first. */
function ready(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = "";
    const timer = setTimeout(() => fail(new Error(`redis-server did not get ready within ${START_BOUND_MS} ms:\n${log}`)), START_BOUND_MS);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes("Ready to accept connections")) {
        cleanup();
        resolve();
      }
    };
    const onExit = (code: number | null, signal: string | null) => fail(new Error(`redis-server exited (${code ?? signal}) before it was ready:\n${log}`));
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.off("exit", onExit);
      // Keep draining its log so the server never blocks on a full pipe.
      child.stdout?.resume();
    };
    const fail = (error: Error) => {
      cleanup();
      reject(error);
    };
    child.stdout?.on("data", onData);
    child.once("exit", onExit);
  });
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

  const launch = async () => {
    const started = spawn(
      "redis-server",
      ["--bind", "127.0.0.1", "--port", String(port), "--dir", dir, "--save", "", "--appendonly", "yes", "--protected-mode", "yes", "--unixsocket", ""],
      { cwd: dir, stdio: ["ignore", "pipe", "inherit"] },
    );
    started.once("error", () => {});
    try {
      await ready(started);
    } catch (error) {
      started.kill("SIGKILL");
      await exited(started);
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
    await exited(running);
  };

  try {
    let lastError: unknown;
    for (let attempt = 0; attempt < PORT_ATTEMPTS && !child; attempt++) {
      port = await freePort();
      await launch().catch((error: unknown) => (lastError = error));
    }
    if (!child) throw lastError instanceof Error ? lastError : new Error("redis-server did not start");
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
      if (!child) await launch();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await halt();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
