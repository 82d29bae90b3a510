// Whole sessions of the scripted adapter, each measured in a worker process
// of its own (bench/session-worker.mjs) so the harness is not counted:
// 50 concurrent sessions (wall time, the worker's peak RSS, lost progress
// events and deliverables) and the latency of one STATUS line from the
// agent's append to the task's onEvent.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const worker = fileURLToPath(new URL("./session-worker.mjs", import.meta.url));

function runWorker(mode) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [worker, mode], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    child.once("error", reject);
    child.once("close", (code, signal) => {
      if (code !== 0) {
        reject(new Error(`session-worker ${mode} exited with ${code ?? signal}`));
        return;
      }
      try {
        resolve(JSON.parse(out.trim().split("\n").pop() ?? ""));
      } catch (error) {
        reject(new Error(`session-worker ${mode} printed no figures: ${out}`, { cause: error }));
      }
    });
  });
}

export default async function () {
  const many = await runWorker("concurrent");
  const one = await runWorker("latency");
  return {
    concurrent50_wall_s: many.concurrent50_wall_s,
    concurrent50_rss_mb: many.peak_rss_mb,
    concurrent50_lost_events: many.concurrent50_lost_events,
    concurrent50_out_of_order: many.concurrent50_out_of_order,
    event_local_p50_ms: one.event_local_p50_ms,
    event_local_p99_ms: one.event_local_p99_ms,
    event_local_max_ms: one.event_local_max_ms,
  };
}
