// A 230 MB blob (random bytes, as a tar.gz workdir is) put into and read
// back from PostgresStateStore on a private PostgreSQL 15, against
// FileStateStore in the same run. Each store runs in a Node process of its own
// that reports its own peak RSS (/proc/self/status VmHWM), so
// pg_blob_peak_rss_mb and file_blob_peak_rss_mb compare like with like.
import { spawn } from "node:child_process";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const work = path.join(here, ".work");
const BLOB_MB = 230;

async function child(kind, target) {
  const { createHash, randomBytes } = await import("node:crypto");
  const { readFileSync } = await import("node:fs");
  let store;
  if (kind === "pg") {
    const { PostgresStateStore } = await import("../packages/store-postgres/dist/index.js");
    store = new PostgresStateStore({ connectionString: target, schema: "bench" });
    await store.listBlobIds();
  } else {
    const { FileStateStore } = await import("../packages/agents/dist/index.js");
    store = new FileStateStore({ dir: target });
  }
  const block = randomBytes(1024 * 1024);
  const inHash = createHash("sha256");
  async function* source() {
    for (let i = 0; i < BLOB_MB; i++) {
      block.writeUInt32LE(i, 0);
      inHash.update(block);
      yield block;
    }
  }
  const t0 = performance.now();
  const id = await store.putBlob(source());
  const t1 = performance.now();
  const outHash = createHash("sha256");
  for await (const chunk of await store.getBlob(id)) outHash.update(chunk);
  const t2 = performance.now();
  if (inHash.digest("hex") !== outHash.digest("hex")) throw new Error(`${kind}: the blob read back differs`);
  const peakMb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))[1]) / 1024;
  await store.deleteBlob(id);
  await store.close?.();
  process.stdout.write(
    `${JSON.stringify({ putMbS: BLOB_MB / ((t1 - t0) / 1000), getMbS: BLOB_MB / ((t2 - t1) / 1000), peakMb })}\n`,
  );
}

function runChild(kind, target) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), "--child", kind, target], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    proc.stdout.on("data", (c) => (out += c));
    proc.once("close", (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split("\n").pop()))
        : reject(new Error(`pg-blob bench child (${kind}) exited ${code}`)),
    );
  });
}

export default async function pgBlobBench() {
  const { startTestPostgres } = await import("../packages/store-postgres/dist/testing.js");
  const server = await startTestPostgres();
  const fileDir = path.join(work, "pg-blob-file");
  try {
    const pg = await runChild("pg", server.connectionString());
    await rm(fileDir, { recursive: true, force: true });
    await mkdir(fileDir, { recursive: true });
    const file = await runChild("file", fileDir);
    return {
      pg_blob_put_mb_s: pg.putMbS,
      pg_blob_get_mb_s: pg.getMbS,
      pg_blob_peak_rss_mb: pg.peakMb,
      file_blob_put_mb_s: file.putMbS,
      file_blob_get_mb_s: file.getMbS,
      file_blob_peak_rss_mb: file.peakMb,
    };
  } finally {
    await server.stop();
    await rm(fileDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--child") await child(process.argv[3], process.argv[4]);
