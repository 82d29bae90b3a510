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
