import type { ChildProcess } from "node:child_process";
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
