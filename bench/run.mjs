// Runs every bench/*.bench.mjs (or those named on the command line), each in
// a Node process of its own (bench/run-one.mjs), merges
// their metrics into bench/results.json (flat: metric → number) and writes
// bench/results.md with each goal judged against the same run's figures.
import { execFileSync, fork } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { goals } from "./goals.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const only = process.argv.slice(2);
const files = (await readdir(here))
  .filter((f) => f.endsWith(".bench.mjs"))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();

let results = {};
if (only.length > 0) {
  results = JSON.parse(await readFile(`${here}/results.json`, "utf8").catch(() => "{}"));
}
const BENCH_BOUND_MS = 30 * 60 * 1000;
/** The bench's metrics, from a Node process of its own. */
function runAlone(file) {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL("./run-one.mjs", import.meta.url)), [file], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let reply = null;
    // A bench that hangs is killed and counted as failed, so the benches after it still run.
    const bound = setTimeout(() => child.kill("SIGKILL"), BENCH_BOUND_MS);
    child.on("message", (message) => (reply = message));
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(bound);
      if (reply?.metrics) resolve(reply.metrics);
      else reject(new Error(reply?.error ?? `the bench process ended (${signal ?? `exit ${code}`}) without figures`));
    });
  });
}

const failures = [];
const SETTLE_MS = 3000;
for (const file of files) {
  // The archive benches leave hundreds of MB of dirty pages behind: write them out and let the machine
  // settle first, so one bench's disk writeback is not timed as the next one's latency.
  execFileSync("sync");
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  process.stderr.write(`bench: ${file}\n`);
  try {
    const metrics = await runAlone(`${here}/${file}`);
    for (const [k, v] of Object.entries(metrics)) {
      results[k] = Math.round(v * 1000) / 1000;
      process.stderr.write(`  ${k} = ${results[k]}\n`);
    }
  } catch (error) {
    failures.push(file);
    process.stderr.write(`  failed: ${error?.stack ?? error}\n`);
  }
}
await writeFile(`${here}/results.json`, `${JSON.stringify(results, null, 2)}\n`);

const rows = ["| metric | value | goal | baseline | result |", "| --- | --- | --- | --- | --- |"];
for (const [metric, value] of Object.entries(results)) {
  const goal = goals[metric];
  if (!goal) {
    rows.push(`| ${metric} | ${value} | | | |`);
    continue;
  }
  const limit = goal.limit(results);
  const pass = limit === undefined ? "no baseline" : goal.op === "<=" ? value <= limit : value === limit;
  rows.push(
    `| ${metric} | ${value} | ${goal.text} | ${goal.baseline ? `${goal.baseline} = ${results[goal.baseline] ?? "?"}` : ""} | ${pass === true ? "pass" : pass === false ? "**miss**" : pass} |`,
  );
}
await writeFile(`${here}/results.md`, `${rows.join("\n")}\n`);
process.stdout.write(`${JSON.stringify(results)}\n`);
if (failures.length > 0) {
  process.stderr.write(`bench: ${failures.join(", ")} failed\n`);
  process.exitCode = 1;
}
