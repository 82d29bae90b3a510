// Snapshot capture and restore of a ~230 MB workdir (150 MB random bytes +
// 500 text files of 12,000 lines) through sessions, the private part encrypted
// with AES-256-GCM: a session of an agent that finishes at once, on LocalHost, whose
// beforeExecute fills its workdir, ends and is snapshotted into a
// FileStateStore; a second session of the same task resumes from it (and is
// snapshotted again at its end). snapshot_capture_s and snapshot_restore_s are
// read from the sessions' own progress events ("Saving a snapshot…" →
// "Snapshot saved", "Restoring the last snapshot…" → the next step).
// The work runs in a child Node process so its peak RSS is its own;
// snapshot_baseline_rss_mb is that process's peak right after importing the
// built packages, before any work, and snapshot_capture_peak_rss_mb its peak
// once the first session (and so the first capture) is over.
// snapshot_session_floor_rss_mb is the peak of the same two sessions, in a
// process of their own, over a workdir of two small files, and
// snapshot_rss_over_floor_mb what the ~230 MB workdir adds to the peak.
// tar_xzf_s is plain `tar xzf` of the same workdir archive the restore read,
// timed in the same child right after the resumed session.
import { execFileSync, spawn } from "node:child_process";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const work = path.join(here, ".work");

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

/** The moment of the first progress event with `message`, and of the next progress event after it. */
function progressSpan(events, message) {
  const at = events.findIndex((e) => e.message === message);
  if (at < 0 || at + 1 >= events.length)
    throw new Error(`no progress "${message}" followed by another: ${JSON.stringify(events.map((e) => e.message))}`);
  return { start: events[at].t, end: events[at + 1].t };
}

async function child(runDir, dataDir) {
  const { FileStateStore, createAgentTask, defineAgentConfigSchema, runTask } = await import(
    "../packages/agents/dist/index.js"
  );
  // What loading the packages alone costs, so the peak can be read against it.
  const baselineMb = process.resourceUsage().maxRSS / 1024;
  process.env.OPTIO_BENCH_TASK_ROOT = path.join(runDir, "tasks");
  // The smallest adapter whose agent finishes at once: `@optio/agents/testing`'s scripted one would bring vitest into the process.
  const adapter = {
    specificationVersion: "agent-v1",
    id: "bench",
    displayName: "Bench agent",
    configSchema: defineAgentConfigSchema({}),
    instructionsFile: "AGENTS.md",
    browser: "suppress",
    install: async () => ({ binaryPath: "/bin/sh" }),
    plant: async () => {},
    command: () => ({ argv: ["/bin/sh", "-c", "echo 'DONE: bench' >> optio.log"], env: {} }),
    resume: { privatePaths: ["home/.bench"], regenerablePaths: ["home/.cache"], canContinue: async () => false },
  };
  const { encrypt, decrypt } = aesGcm(randomBytes(32));
  const store = new FileStateStore({ dir: path.join(runDir, "store") });
  const credential = JSON.stringify({ accessToken: randomBytes(48).toString("hex") });
  const dataFiles = `find blobs src -type f | wc -l`;
  let expectedFiles = null;
  let restored = null;

  const task = createAgentTask(adapter, {
    processId: "snapshot",
    name: "snapshot bench",
    config: {
      sessionBlobEncrypt: encrypt,
      sessionBlobDecrypt: decrypt,
      async beforeExecute(hook) {
        if (hook.resumeRequested) {
          restored = {
            files: Number((await hook.runOnHost(dataFiles)).stdout.trim()),
            credential: await hook.readTextFromHost("home/.bench/.credentials.json"),
          };
          return;
        }
        // Hard links: the capture only reads these files, and a copy would double the disk traffic.
        await hook.runOnHost(`cp -al ${JSON.stringify(`${dataDir}/.`)} .`);
        expectedFiles = Number((await hook.runOnHost(dataFiles)).stdout.trim());
        // The private part: a credential and a few MB of transcripts, as a long session leaves them.
        await hook.host.writeText("home/.bench/.credentials.json", credential, { mode: 0o600 });
        // Made by the host's own tools, so the bench's setup adds nothing to this process's peak.
        const line = JSON.stringify({ type: "user", text: "x".repeat(200) });
        await hook.runOnHost(
          `mkdir -p home/.bench/projects home/.cache && for i in 0 1 2 3; do yes '${line}' | head -n 5000 > home/.bench/projects/s$i.jsonl; done`,
        );
        // Regenerable weight under the home, left out of the snapshot.
        await hook.runOnHost("head -c 8388608 /dev/urandom > home/.cache/binary");
      },
    },
  });
  const session = async (resume) => {
    const events = [];
    const outcome = await runTask(task, {
      store,
      resume,
      onEvent: (e) => e.type === "progress" && events.push({ t: performance.now(), message: e.message }),
    }).outcome;
    if (outcome.status !== "done") throw new Error(`snapshot bench session ended ${JSON.stringify(outcome)}`);
    return events;
  };

  const first = await session(false);
  const capture = progressSpan(first, "Saving a snapshot…");
  const afterCaptureMb = process.resourceUsage().maxRSS / 1024;
  const second = await session(true);
  const restore = progressSpan(second, "Restoring the last snapshot…");
  if (restored?.files !== expectedFiles)
    throw new Error(`the resumed workdir has ${restored?.files} data files, expected ${expectedFiles}`);
  if (restored.credential !== credential)
    throw new Error("the resumed session's private state differs from what was saved");
  const plainDir = path.join(runDir, "tar-xzf");
  await mkdir(plainDir);
  const resumed = await store.latestSnapshot("snapshot");
  const [restoredFrom] = (await store.listSnapshots("snapshot")).filter((r) => r.id !== resumed.id);
  const blob = await store.openBlobFile(restoredFrom.workdirBlobId);
  const plainStart = performance.now();
  execFileSync("tar", ["-xzf", `/proc/${process.pid}/fd/${blob.fd}`, "-C", plainDir]);
  const tarXzfSeconds = (performance.now() - plainStart) / 1000;
  await blob.close();
  await rm(plainDir, { recursive: true, force: true });

  process.stdout.write(
    `${JSON.stringify({
      snapshot_capture_s: (capture.end - capture.start) / 1000,
      snapshot_restore_s: (restore.end - restore.start) / 1000,
      tar_xzf_s: tarXzfSeconds,
      snapshot_peak_rss_mb: process.resourceUsage().maxRSS / 1024,
      snapshot_baseline_rss_mb: baselineMb,
      snapshot_capture_peak_rss_mb: afterCaptureMb,
    })}\n`,
  );
}

/** The child's measurements for one data set, in a Node process of its own. */
async function runChild(name, data) {
  const runDir = path.join(work, name);
  await rm(runDir, { recursive: true, force: true });
  await mkdir(runDir, { recursive: true, mode: 0o700 });
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), "--child", runDir, data], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  proc.stdout.on("data", (c) => (out += c));
  const code = await new Promise((resolve) => proc.once("close", resolve));
  await rm(runDir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`snapshot bench child (${name}) exited ${code}`);
  return JSON.parse(out.trim().split("\n").pop());
}

/** A data set of one small file in each place the real one has files. */
async function tinyDataSet() {
  const dir = path.join(work, "snapshot-tiny");
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.join(dir, "blobs"), { recursive: true });
  await mkdir(path.join(dir, "src"), { recursive: true });
  await writeFile(path.join(dir, "blobs", "blob-0.bin"), randomBytes(1024));
  await writeFile(path.join(dir, "src", "file-0.txt"), "line 0\n");
  return dir;
}

export default async function snapshotBench() {
  const result = await runChild("snapshot-run", await dataSet());
  // The same two sessions over a workdir of two small files: what a process running them peaks at whatever the snapshot carries.
  const floor = await runChild("snapshot-floor-run", await tinyDataSet());
  return {
    ...result,
    snapshot_session_floor_rss_mb: floor.snapshot_peak_rss_mb,
    snapshot_rss_over_floor_mb: result.snapshot_peak_rss_mb - floor.snapshot_peak_rss_mb,
  };
}

if (process.argv[2] === "--child") await child(process.argv[3], process.argv[4]);
