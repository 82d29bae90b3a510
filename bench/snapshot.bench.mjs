// Snapshot capture and restore of a ~230 MB workdir (150 MB random bytes +
// 500 text files of 12,000 lines) with captureSnapshot / restoreSnapshot over
// LocalHost and FileStateStore, the private part encrypted with AES-256-GCM.
// The work runs in a child Node process so its peak RSS is its own;
// snapshot_baseline_rss_mb is that process's peak right after importing the
// built packages, before any work, and snapshot_capture_peak_rss_mb its peak
// once the capture is done (the restore comes after it).
import { execFile, spawn } from "node:child_process";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const here = fileURLToPath(new URL(".", import.meta.url));
const work = path.join(here, ".work");
const run = promisify(execFile);

const RANDOM_MB = 150;
const TEXT_FILES = 500;
const TEXT_LINES = 12_000;

/** The host bench's data set when it made one, else our own copy of the same shape. */
async function dataSet() {
  const hostBench = path.join(work, "host-local", "tasks", "archive", "workdir");
  if (existsSync(path.join(hostBench, ".generated"))) return hostBench;
  const dir = path.join(work, "snapshot-data");
  if (existsSync(path.join(dir, ".generated"))) return dir;
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.join(dir, "blobs"), { recursive: true });
  for (let i = 0; i < 5; i++) {
    const out = createWriteStream(path.join(dir, "blobs", `blob-${i}.bin`));
    for (let j = 0; j < RANDOM_MB / 5; j++) {
      if (!out.write(randomBytes(1024 * 1024))) await new Promise((resolve) => out.once("drain", resolve));
    }
    await new Promise((resolve, reject) => out.end((error) => (error ? reject(error) : resolve())));
  }
  for (let f = 0; f < TEXT_FILES; f++) {
    const sub = path.join(dir, "src", `mod-${f % 25}`);
    await mkdir(sub, { recursive: true });
    const lines = [];
    for (let l = 0; l < TEXT_LINES; l++) lines.push(`line ${l} of file ${f}: value=${(l * 7919 + f) % 100003}`);
    await writeFile(path.join(sub, `file-${f}.txt`), `${lines.join("\n")}\n`);
  }
  await writeFile(path.join(dir, ".generated"), "");
  return dir;
}

function aesGcm(key) {
  return {
    encrypt(data) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const body = Buffer.concat([cipher.update(data), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]);
    },
    decrypt(data) {
      const buf = Buffer.from(data);
      const decipher = createDecipheriv("aes-256-gcm", key, buf.subarray(0, 12));
      decipher.setAuthTag(buf.subarray(12, 28));
      return Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]);
    },
  };
}

async function child(runDir) {
  const { LocalHost } = await import("../packages/host/dist/index.js");
  const { FileStateStore, captureSnapshot, restoreSnapshot } = await import("../packages/agents/dist/index.js");
  // What loading the packages alone costs, so the peak can be read against it.
  const baselineMb = process.resourceUsage().maxRSS / 1024;
  const env = { OPTIO_BENCH_TASK_ROOT: path.join(runDir, "tasks") };
  const resume = { privatePaths: ["home/.claude", "home/.claude.json"], regenerablePaths: ["home/.local/share/claude"] };
  const { encrypt, decrypt } = aesGcm(randomBytes(32));
  const store = new FileStateStore({ dir: path.join(runDir, "store") });

  const source = new LocalHost({ consumer: "optio-bench", processId: "snapshot", env });
  await source.connect();
  const countFiles = async (host) => Number((await host.runChecked("find . -type f -not -path './home/.local/share/claude/*' | wc -l")).stdout.trim());
  const expectedFiles = await countFiles(source);
  let start = performance.now();
  const record = await captureSnapshot({ host: source, store, agent: "bench", processId: "snapshot", endState: "done", resume, encrypt });
  const captureS = (performance.now() - start) / 1000;
  // maxRSS never falls, so read now it is the peak of loading plus capturing.
  const afterCaptureMb = process.resourceUsage().maxRSS / 1024;
  await source.disconnect();

  const target = new LocalHost({ consumer: "optio-bench", processId: "restored", env });
  await target.connect();
  start = performance.now();
  await restoreSnapshot({ host: target, store, record, resume, decrypt });
  const restoreS = (performance.now() - start) / 1000;
  const restoredFiles = await countFiles(target);
  if (restoredFiles !== expectedFiles) throw new Error(`restore produced ${restoredFiles} files, expected ${expectedFiles}`);
  await target.disconnect();

  process.stdout.write(
    `${JSON.stringify({
      snapshot_capture_s: captureS,
      snapshot_restore_s: restoreS,
      snapshot_peak_rss_mb: process.resourceUsage().maxRSS / 1024,
      snapshot_baseline_rss_mb: baselineMb,
      snapshot_capture_peak_rss_mb: afterCaptureMb,
    })}\n`,
  );
}

export default async function snapshotBench() {
  const data = await dataSet();
  const runDir = path.join(work, "snapshot-run");
  await rm(runDir, { recursive: true, force: true });
  const workdir = path.join(runDir, "tasks", "snapshot", "workdir");
  await mkdir(path.dirname(workdir), { recursive: true, mode: 0o700 });
  // Hard links: the capture only reads these files, and a copy would double the disk traffic.
  await run("cp", ["-al", data, workdir]);
  // The private part: a credential and a few MB of transcripts, as a long session leaves them.
  const claude = path.join(workdir, "home", ".claude");
  await mkdir(path.join(claude, "projects", "-bench"), { recursive: true });
  await writeFile(path.join(claude, ".credentials.json"), JSON.stringify({ claudeAiOauth: { accessToken: randomBytes(48).toString("hex") } }), { mode: 0o600 });
  for (let i = 0; i < 4; i++) {
    await writeFile(path.join(claude, "projects", "-bench", `s${i}.jsonl`), `${JSON.stringify({ type: "user", text: "x".repeat(200) })}\n`.repeat(5000));
  }
  await writeFile(path.join(workdir, "home", ".claude.json"), "{}");
  await mkdir(path.join(workdir, "home", ".local", "share", "claude"), { recursive: true });
  await writeFile(path.join(workdir, "home", ".local", "share", "claude", "binary"), randomBytes(8 * 1024 * 1024));

  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), "--child", runDir], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  proc.stdout.on("data", (c) => (out += c));
  const code = await new Promise((resolve) => proc.once("close", resolve));
  await rm(runDir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`snapshot bench child exited ${code}`);
  return JSON.parse(out.trim().split("\n").pop());
}

if (process.argv[2] === "--child") await child(process.argv[3]);
