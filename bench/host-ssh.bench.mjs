// tailFile over SSH: per-line latency while lines trickle in, and the time a
// 100,000-line burst takes to arrive. sshd runs on this machine, so the
// appender writes the remote file directly and stamps each line with the
// same clock the reader uses.
import { closeSync, openSync, writeFileSync, writeSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { RemoteHost } from "../packages/host/dist/index.js";
import { startTestSshd } from "../packages/host/dist/testing.js";
import { percentile, withBound } from "./bench-lib.mjs";

const TRICKLE_LINES = 500;
const TRICKLE_EVERY_MS = 4;
const BURST_LINES = 100_000;
const BOUND_MS = 60_000;

export default async function () {
  const sshd = await startTestSshd();
  const root = await mkdtemp(path.join(os.tmpdir(), "optio-bench-ssh-"));
  const host = new RemoteHost({
    consumer: "bench",
    processId: "ssh",
    ssh: sshd.sshConfig(),
    env: { BENCH_REMOTE_TASK_ROOT: root },
  });
  const controller = new AbortController();
  try {
    await host.connect();

    const trickleFile = host.resolvePath("trickle.log");
    writeFileSync(trickleFile, "ready\n");
    const latencies = [];
    const trickle = withBound(
      "the trickle",
      (async () => {
        let appender;
        for await (const line of host.tailFile(trickleFile, { signal: controller.signal })) {
          if (line === "ready") {
            appender = (async () => {
              const fd = openSync(trickleFile, "a");
              try {
                for (let i = 0; i < TRICKLE_LINES; i++) {
                  writeSync(fd, `${performance.now()} ${i}\n`);
                  await new Promise((r) => setTimeout(r, TRICKLE_EVERY_MS));
                }
              } finally {
                closeSync(fd);
              }
            })();
            continue;
          }
          latencies.push(performance.now() - Number(line.split(" ")[0]));
          if (latencies.length === TRICKLE_LINES) break;
        }
        await appender;
      })(),
      BOUND_MS,
    );
    await trickle;
    latencies.sort((a, b) => a - b);

    const lines = Array.from(
      { length: BURST_LINES },
      (_, i) => `burst line ${i} of the bench, some text to give it body`,
    );
    const payload = `${lines.join("\n")}\n`;
    const append = (file) => {
      const fd = openSync(file, "a");
      writeSync(fd, payload);
      closeSync(fd);
    };

    // The floor: GNU tail on the same file as one exec over the same connection, its output's lines counted here.
    const floorFile = host.resolvePath("burst-floor.log");
    writeFileSync(floorFile, "ready\n");
    const tailF = await host.spawn(`exec tail -n1 -F ${floorFile}`);
    let floorStarted = 0;
    const floorElapsed = await withBound(
      "the tail -F burst",
      new Promise((resolve) => {
        let seen = -1;
        tailF.stdout.on("data", (chunk) => {
          for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) {
            if (++seen === 0) {
              floorStarted = performance.now();
              append(floorFile);
            }
            if (seen === BURST_LINES) resolve(performance.now() - floorStarted);
          }
        });
      }),
      BOUND_MS,
    );
    await host.terminate(tailF, { graceMs: 0 });

    // optio's tail, read the way the session's log watcher reads it: a batch of lines at a time.
    const burstFile = host.resolvePath("burst.log");
    writeFileSync(burstFile, "ready\n");
    let started = 0;
    let elapsed = 0;
    await withBound(
      "the burst",
      (async () => {
        let seen = 0;
        for await (const batch of host.tailLines(burstFile, { signal: controller.signal })) {
          if (batch[0] === "ready") {
            started = performance.now();
            append(burstFile);
            continue;
          }
          seen += batch.length;
          if (seen === BURST_LINES) {
            elapsed = performance.now() - started;
            break;
          }
        }
      })(),
      BOUND_MS,
    );

    return {
      tail_ssh_p50_ms: percentile(latencies, 50),
      tail_ssh_p99_ms: percentile(latencies, 99),
      burst_ssh_s: elapsed / 1000,
      burst_tail_f_ssh_s: floorElapsed / 1000,
    };
  } finally {
    controller.abort();
    await host.disconnect();
    await sshd.stop();
    await rm(root, { recursive: true, force: true });
  }
}
