import type { ChildProcess } from "node:child_process";
import { rm } from "node:fs/promises";
import { freePort } from "./test-sshd.js";

/** Resolves when `child` has exited, with its exit code or signal. */
export function exitOf(child: ChildProcess): Promise<number | string | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal)));
}

/** The rest of the first stdout line of `child` that starts with `prefix`; rejects if it exits first. */
export function lineFrom(child: ChildProcess, prefix: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split("\n").find((l) => l.startsWith(prefix));
      if (line === undefined) return;
      child.stdout?.off("data", onData);
      child.off("exit", onExit);
      resolve(line.slice(prefix.length));
    };
    const onExit = (code: number | null, signal: string | null) =>
      reject(new Error(`the process exited (${code ?? signal}) before printing ${prefix}: ${buffered}`));
    child.stdout?.on("data", onData);
    child.once("exit", onExit);
  });
}

/**
 * Resolves once `child` prints `marker` on `stream`; rejects with what it
 * printed when it exits first or `boundMs` passes. The stream is drained
 * afterwards, so a server never blocks on a full pipe.
 */
export function printed(
  child: ChildProcess,
  stream: "stdout" | "stderr",
  marker: string,
  boundMs: number,
): Promise<void> {
  const output = child[stream];
  return new Promise((resolve, reject) => {
    let log = "";
    const timer = setTimeout(() => fail(new Error(`no "${marker}" within ${boundMs} ms:\n${log}`)), boundMs);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes(marker)) {
        cleanup();
        resolve();
      }
    };
    const onExit = (code: number | null, signal: string | null) =>
      fail(new Error(`exited (${code ?? signal}) before printing "${marker}":\n${log}`));
    const cleanup = () => {
      clearTimeout(timer);
      output?.off("data", onData);
      child.off("exit", onExit);
      output?.resume();
    };
    const fail = (error: Error) => {
      cleanup();
      reject(error);
    };
    output?.on("data", onData);
    child.once("exit", onExit);
  });
}

/**
 * Starts a test server with `launch` on a free port of 127.0.0.1, trying
 * another port when the first is taken between asking and binding; returns
 * the port it runs on.
 */
export async function launchOnFreePort(launch: (port: number) => Promise<void>, attempts = 5): Promise<number> {
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = await freePort();
    try {
      await launch(port);
      return port;
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(`no server started in ${attempts} attempts`);
}

/** A test server on 127.0.0.1 that can be halted and started again on the same port (a Redis, a PostgreSQL). */
export interface RestartableServer {
  readonly port: number;
  /** Stops the server with its clean-shutdown signal, keeping its data and port, as a restart or an outage would. */
  halt(): Promise<void>;
  /** Starts a halted server again on the same port. */
  resume(): Promise<void>;
  /** Stops the server and removes its dir. Idempotent. */
  stop(): Promise<void>;
}

export interface RestartableServerOptions {
  /** What it is, for messages: `redis`. */
  name: string;
  /** The server's temp dir, removed when it stops or fails to start. */
  dir: string;
  /** Starts the server process on `port`. */
  spawn(port: number): ChildProcess;
  /** The stream and the text on it that say the server is ready, and how long it may take. */
  ready: { stream: "stdout" | "stderr"; marker: string; boundMs: number };
  /** The signal the server shuts down cleanly on. */
  stopSignal: NodeJS.Signals;
}

/** Starts a server process on a free port (launchOnFreePort) and gives it halt, resume and stop. */
export async function startRestartableServer(options: RestartableServerOptions): Promise<RestartableServer> {
  let child: ChildProcess | undefined;
  let stopped = false;
  const launch = async (port: number) => {
    const started = options.spawn(port);
    started.once("error", () => {});
    try {
      await printed(started, options.ready.stream, options.ready.marker, options.ready.boundMs);
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
    running.kill(options.stopSignal);
    await exitOf(running);
  };
  let port: number;
  try {
    port = await launchOnFreePort(launch);
  } catch (error) {
    await rm(options.dir, { recursive: true, force: true });
    throw error;
  }
  return {
    port,
    halt,
    async resume() {
      if (stopped) throw new Error(`this test ${options.name} was stopped`);
      if (!child) await launch(port);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await halt();
      await rm(options.dir, { recursive: true, force: true });
    },
  };
}
