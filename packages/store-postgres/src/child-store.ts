import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const DIST = fileURLToPath(new URL("../dist/index.js", import.meta.url));

/**
 * A Node process running `body` (an ES module body) with `PostgresStateStore`
 * imported from the built package and `connectionString` and `schema` bound,
 * so a test can kill a real writer or read a real process's memory peak.
 */
export function spawnStoreProcess(body: string, connectionString: string, schema: string): ChildProcess {
  const script = `const { PostgresStateStore } = await import(${JSON.stringify(DIST)});
const connectionString = ${JSON.stringify(connectionString)};
const schema = ${JSON.stringify(schema)};
${body}`;
  return spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
}

/** The first stdout line of `child` that starts with `prefix`; rejects if it exits first. */
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
    const onExit = (code: number | null, signal: string | null) => reject(new Error(`the store process exited (${code ?? signal}) before printing ${prefix}: ${buffered}`));
    child.stdout?.on("data", onData);
    child.once("exit", onExit);
  });
}

/** Resolves when `child` has exited, with its exit code or signal. */
export function exitOf(child: ChildProcess): Promise<number | string | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal)));
}
