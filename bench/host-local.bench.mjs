// LocalHost: tail latency and burst throughput, and archiving a ~230 MB
// workdir against plain `tar czf` of the same directory, with the archiving
// worker's peak memory.
import { execFile, spawn } from "node:child_process";
import { createReadStream, existsSync } from "node:fs";
import { mkdir, open, rm, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { LocalHost } from "../packages/host/dist/index.js";
import { percentile } from "./bench-lib.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const work = join(here, ".work", "host-local");
const taskRoot = join(work, "tasks");
const env = { OPTIO_BENCH_TASK_ROOT: taskRoot };
const TAIL_LINES = 500;
const BURST_LINES = 100_000;
const BURST_RUNS = 9;

function run(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 1 << 20, ...options }, (error, stdout, stderr) =>
      error ? reject(new Error(`${cmd} failed: ${stderr || error.message}`)) : resolve(stdout),
    );
  });
}

async function benchTail() {
  const host = new LocalHost({ consumer: "optio-bench", processId: "tail", env });
  await host.connect();
  const log = host.resolvePath("tail.log");
  await writeFile(log, "");
  const controller = new AbortController();
  const lines = host.tailFile(log, { signal: controller.signal })[Symbol.asyncIterator]();
  // The writer is a separate process; hrtime is the system monotonic clock, shared between processes.
  const writer = spawn(
    process.execPath,
    [
      "-e",
      `const fs = require("fs"); const fd = fs.openSync(${JSON.stringify(log)}, "a"); let n = 0;
     const t = setInterval(() => { fs.writeSync(fd, "tail " + process.hrtime.bigint() + "\\n"); if (++n === ${TAIL_LINES}) { clearInterval(t); fs.closeSync(fd); } }, 4);`,
    ],
    { stdio: "inherit" },
  );
  const latencies = [];
  while (latencies.length < TAIL_LINES) {
    const { value, done } = await lines.next();
    if (done) throw new Error("tail ended early");
    const now = process.hrtime.bigint();
    latencies.push(Number(now - BigInt(value.slice(5))) / 1e6);
  }
  await new Promise((resolve) => (writer.exitCode !== null ? resolve() : writer.once("exit", resolve)));

  controller.abort();
  await lines.return?.();

  // The appender is a process of its own, as an agent is: the lines are written by one write(2) there,
  // stamped with hrtime (the system monotonic clock, shared between processes) just before it.
  const appender = spawn(
    process.execPath,
    [
      "-e",
      `const fs = require("fs");
     const burst = Buffer.from(Array.from({ length: ${BURST_LINES} }, (_, i) => "burst line " + i + " " + "x".repeat(24)).join("\\n") + "\\n");
     require("readline").createInterface({ input: process.stdin }).on("line", (file) => {
       const fd = fs.openSync(file, "a");
       const started = process.hrtime.bigint();
       fs.writeSync(fd, burst);
       fs.closeSync(fd);
       process.stdout.write(started + "\\n");
     });`,
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const stamps = createInterface({ input: appender.stdout })[Symbol.asyncIterator]();
  /** Has the appender add the burst to `file`; the moment it started writing. */
  const append = async (file) => {
    appender.stdin.write(`${file}\n`);
    const { value, done } = await stamps.next();
    if (done) throw new Error("the burst appender ended");
    return BigInt(value);
  };

  // The floor: GNU tail following the same kind of file, its output's lines counted here.
  const floorLog = host.resolvePath("burst-floor.log");
  await writeFile(floorLog, "");
  const tailF = spawn("tail", ["-n0", "-F", floorLog], { stdio: ["ignore", "pipe", "inherit"] });
  let floorSeen = 0;
  let floorWaiter = null;
  tailF.stdout.on("data", (chunk) => {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) floorSeen++;
    if (floorWaiter && floorSeen >= floorWaiter.lines) floorWaiter.resolve(process.hrtime.bigint());
  });
  const tailFEnded = new Promise((_, reject) => tailF.once("exit", () => reject(new Error("tail -F ended"))));
  tailFEnded.catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 500));
  const floorBurst = async () => {
    const arrived = new Promise((resolve) => (floorWaiter = { lines: floorSeen + BURST_LINES, resolve }));
    const started = await append(floorLog);
    return Number((await Promise.race([arrived, tailFEnded])) - started) / 1e9;
  };

  // optio's tail, read the way the session's log watcher reads it: a batch of lines at a time, the reader
  // already waiting for lines when they are appended, as tail -F is.
  const burstLog = host.resolvePath("burst.log");
  await writeFile(burstLog, "ready\n");
  const burstStop = new AbortController();
  const batches = host.tailLines(burstLog, { signal: burstStop.signal })[Symbol.asyncIterator]();
  if ((await batches.next()).value?.[0] !== "ready") throw new Error("the burst tail did not start");
  const optioBurst = async () => {
    const reading = (async () => {
      for (let got = 0; got < BURST_LINES; ) {
        const { value, done } = await batches.next();
        if (done) throw new Error("tail ended during the burst");
        got += value.length;
      }
      return process.hrtime.bigint();
    })();
    reading.catch(() => {});
    const started = await append(burstLog);
    return Number((await reading) - started) / 1e9;
  };
  // Interleaved, the median of each: one burst takes a few tens of ms, where one scheduling hiccup shows.
  const floorRuns = [];
  const optioRuns = [];
  for (let i = 0; i < BURST_RUNS; i++) {
    floorRuns.push(await floorBurst());
    optioRuns.push(await optioBurst());
  }
  process.stderr.write(
    `  bursts (s): tail -F ${floorRuns.map((s) => s.toFixed(3)).join(" ")} | optio ${optioRuns.map((s) => s.toFixed(3)).join(" ")}\n`,
  );
  tailF.kill();
  appender.stdin.end();
  burstStop.abort();
  await batches.return?.();
  const burstSeconds = percentile(optioRuns, 50);
  const tailFSeconds = percentile(floorRuns, 50);
  await host.disconnect();
  return {
    tail_local_p50_ms: percentile(latencies, 50),
    tail_local_p99_ms: percentile(latencies, 99),
    burst_local_s: burstSeconds,
    burst_tail_f_s: tailFSeconds,
  };
}

/** ~230 MB: 150 MB of random bytes in five files and 500 text files of 12,000 lines. */
async function ensureWorkdir(workdir) {
  const marker = join(workdir, ".generated");
  if (existsSync(marker)) return;
  await rm(workdir, { recursive: true, force: true });
  await mkdir(join(workdir, "blobs"), { recursive: true });
  for (let i = 0; i < 5; i++) {
    const fh = await open(join(workdir, "blobs", `blob-${i}.bin`), "w");
    for (let j = 0; j < 30; j++) await fh.write(randomBytes(1024 * 1024));
    await fh.close();
  }
  for (let f = 0; f < 500; f++) {
    const dir = join(workdir, "src", `mod-${f % 25}`);
    await mkdir(dir, { recursive: true });
    const lines = [];
    for (let l = 0; l < 12_000; l++) lines.push(`line ${l} of file ${f}: value=${(l * 7919 + f) % 100003}`);
    await writeFile(join(dir, `file-${f}.txt`), `${lines.join("\n")}\n`);
  }
  await writeFile(marker, "");
}

const archiveWorker = `
import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { LocalHost } from ${JSON.stringify(new URL("../packages/host/dist/index.js", import.meta.url).href)};
const { BENCH_TASK_ROOT: taskRoot, BENCH_OUT: out } = process.env;
const host = new LocalHost({ consumer: "optio-bench", processId: "archive", env: { OPTIO_BENCH_TASK_ROOT: taskRoot } });
await host.connect();
const started = process.hrtime.bigint();
await pipeline(host.archiveWorkdir(), createWriteStream(out));
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
await host.disconnect();
process.stdout.write(JSON.stringify({ seconds, maxRssKb: process.resourceUsage().maxRSS }));
`;

async function benchArchive() {
  const source = new LocalHost({ consumer: "optio-bench", processId: "archive", env });
  await source.connect();
  await ensureWorkdir(source.workdir);
  const plain = join(work, "plain.tar.gz");
  const ours = join(work, "archive.tar.gz");
  // Warm the page cache so neither measurement pays for the first read.
  await run("tar", ["cf", "/dev/null", "-C", source.workdir, "."]);

  let started = process.hrtime.bigint();
  await run("tar", ["czf", plain, "-C", source.workdir, "."]);
  const tarSeconds = Number(process.hrtime.bigint() - started) / 1e9;

  const result = JSON.parse(
    await run(process.execPath, ["--input-type=module", "-e", archiveWorker], {
      env: { ...process.env, BENCH_TASK_ROOT: taskRoot, BENCH_OUT: ours },
    }),
  );

  const target = new LocalHost({ consumer: "optio-bench", processId: "restore", env });
  await target.connect();
  started = process.hrtime.bigint();
  await target.restoreWorkdir(createReadStream(ours));
  const restoreSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const check = await target.runChecked("find . -type f | wc -l");
  if (Number(check.stdout.trim()) !== 506)
    throw new Error(`restore produced ${check.stdout.trim()} files, expected 506`);
  await target.remove(target.taskDir);
  await target.disconnect();
  await source.disconnect();
  await rm(plain, { force: true });
  await rm(ours, { force: true });
  return {
    archive_s: result.seconds,
    archive_peak_rss_mb: result.maxRssKb / 1024,
    restore_s: restoreSeconds,
    tar_czf_s: tarSeconds,
  };
}

export default async function () {
  await mkdir(work, { recursive: true });
  const tail = await benchTail();
  const archive = await benchArchive();
  return { ...tail, ...archive };
}
