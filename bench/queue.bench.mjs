// @optio/queue-bullmq on a private redis-server and PostgreSQL 15, with
// workers in Node processes of their own (this file with --worker):
// - queue_dispatch_p99_ms: submitTask → the task's run starts on a worker
//   (the worker stamps the time; same machine, same clock), one task at a time
//   over three idle workers;
// - queue_throughput_tasks_per_s: 300 quick tasks over three workers, against
//   runtask_throughput_tasks_per_s, the same tasks run by runTask in one process;
// - queue_failover_s: SIGKILL of the worker running a task → another worker
//   has adopted its live agent (same pid), with the default lock and stalled-check times;
// - queue_cancel_p99_ms: cancelTask from another process (this file with
//   --canceller, stamping the time just before the call) → the task's outcome
//   `cancelled` is seen here, for running scripted tasks over two workers.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { percentile, withBound } from "./bench-lib.mjs";

const queueDist = "../packages/queue-bullmq/dist/index.js";
const queueTesting = "../packages/queue-bullmq/dist/testing.js";
const DISPATCH_SAMPLES = 200;
const CANCEL_SAMPLES = 40;
const THROUGHPUT_TASKS = 300;
const WORKERS = 3;
const STEP_BOUND_MS = 120_000;

async function benchKinds(root) {
  const { defineTaskKind } = await import(queueDist);
  const { scriptedTaskKind } = await import(queueTesting);
  const z = await import("../packages/queue-bullmq/node_modules/zod/mini/index.js");
  const quick = defineTaskKind("quick", z.object({}), (_payload, { processId }) => quickTask(processId));
  return [quick, scriptedTaskKind(root)];
}

/** A task that is done as soon as it starts, saying when it started. */
function quickTask(processId) {
  return {
    processId,
    name: processId,
    run: async () => ({ status: "done", summary: String(performance.timeOrigin + performance.now()) }),
  };
}

async function worker([redisUrl, databaseUrl, queueName, workerId, root]) {
  const { startWorker } = await import(queueDist);
  const { PostgresStateStore } = await import("../packages/store-postgres/dist/index.js");
  const store = new PostgresStateStore({ connectionString: databaseUrl });
  const started = await startWorker({
    redisUrl,
    queueName,
    kinds: await benchKinds(root),
    store,
    concurrency: 20,
    workerId,
  });
  process.stdout.write(`READY:${started.id}\n`);
}

/** Cancels each processId read from stdin, printing `CANCELLED:<id>:<time just before cancelTask>`. */
async function canceller([redisUrl, queueName]) {
  const { connectTaskQueue } = await import(queueDist);
  const queue = connectTaskQueue({ redisUrl, queueName });
  // The connection is opened before the first sample, so no sample pays for it.
  await queue.listTasks();
  process.stdout.write("READY:canceller\n");
  process.stdin.setEncoding("utf8");
  let pending = "";
  for await (const chunk of process.stdin) {
    pending += chunk;
    for (let end = pending.indexOf("\n"); end >= 0; end = pending.indexOf("\n")) {
      const processId = pending.slice(0, end);
      pending = pending.slice(end + 1);
      const stamp = performance.timeOrigin + performance.now();
      await queue.cancelTask(processId);
      process.stdout.write(`CANCELLED:${processId}:${stamp}\n`);
    }
  }
  await queue.close();
}

function spawnHelper(mode, args) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), mode, ...args], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const ready = new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (out.includes("READY:")) resolve();
    });
    child.once("exit", (code, signal) =>
      reject(new Error(`bench ${mode} exited (${code ?? signal}) before it was ready`)),
    );
  });
  return { child, ready };
}

/** The time the canceller stamped for `processId`. */
function cancelledStamp(child, processId) {
  return new Promise((resolve) => {
    let out = "";
    const onData = (chunk) => {
      out += chunk;
      const match = out.match(new RegExp(`CANCELLED:${processId}:([0-9.]+)\n`));
      if (!match) return;
      child.stdout.off("data", onData);
      resolve(Number(match[1]));
    };
    child.stdout.on("data", onData);
  });
}

function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", resolve));
}

export default async function queueBench() {
  const { connectTaskQueue } = await import(queueDist);
  const { startTestRedis } = await import(queueTesting);
  const { runTask } = await import("../packages/agents/dist/index.js");
  const { startTestPostgres } = await import("../packages/store-postgres/dist/testing.js");
  const [redis, postgres] = await Promise.all([startTestRedis(), startTestPostgres()]);
  const root = await mkdtemp(path.join(os.tmpdir(), "optio-queue-bench-"));
  const workers = [];
  const queues = [];
  const start = async (queueName, ids) => {
    const started = ids.map((id) => spawnHelper("--worker", [redis.url, databaseUrl, queueName, id, root]));
    workers.push(...started);
    await Promise.all(started.map((w) => w.ready));
    return started;
  };
  const client = async (queueName) => {
    const queue = connectTaskQueue({ redisUrl: redis.url, queueName, kinds: await benchKinds(root) });
    queues.push(queue);
    return queue;
  };
  const databaseUrl = await postgres.createDatabase("bench");
  try {
    const dispatchQueue = await client("dispatch");
    await start("dispatch", ["d-0", "d-1", "d-2"]);
    const latencies = [];
    for (let i = 0; i < DISPATCH_SAMPLES; i++) {
      const processId = `dispatch-${i}`;
      const before = performance.timeOrigin + performance.now();
      await dispatchQueue.submitTask("quick", {}, { processId });
      const outcome = await withBound(processId, dispatchQueue.waitForOutcome(processId), STEP_BOUND_MS);
      latencies.push(Number(outcome.summary) - before);
    }

    const throughputQueue = await client("throughput");
    await start(
      "throughput",
      Array.from({ length: WORKERS }, (_, i) => `t-${i}`),
    );
    const ids = Array.from({ length: THROUGHPUT_TASKS }, (_, i) => `quick-${i}`);
    const t0 = performance.now();
    await Promise.all(ids.map((processId) => throughputQueue.submitTask("quick", {}, { processId })));
    await withBound("throughput", Promise.all(ids.map((id) => throughputQueue.waitForOutcome(id))), STEP_BOUND_MS);
    const queueSeconds = (performance.now() - t0) / 1000;
    const r0 = performance.now();
    await Promise.all(ids.map((id) => runTask(quickTask(id)).outcome));
    const runTaskSeconds = (performance.now() - r0) / 1000;

    const failoverQueue = await client("failover");
    const [victim] = await start("failover", ["f-victim"]);
    await failoverQueue.submitTask("scripted", { ms: 600_000 }, { processId: "failover-1" });
    const { scriptedStarts } = await import(queueTesting);
    const watching = new AbortController();
    const events = failoverQueue.watch({ processId: "failover-1", signal: watching.signal })[Symbol.asyncIterator]();
    const widgetFrom = async (worker) => {
      let owner;
      for (let next = await events.next(); !next.done; next = await events.next()) {
        const event = next.value;
        if (event.type === "started") owner = event.worker;
        if (owner === worker && event.type === "task" && event.event.type === "widget") return;
      }
    };
    await withBound("first start", widgetFrom("f-victim"), STEP_BOUND_MS);
    await start("failover", ["f-heir"]);
    const k0 = performance.now();
    victim.child.kill("SIGKILL");
    await withBound("failover", widgetFrom("f-heir"), STEP_BOUND_MS);
    const failoverSeconds = (performance.now() - k0) / 1000;
    watching.abort();
    const starts = await scriptedStarts(root, "failover-1");
    if (starts.length !== 2 || !starts[1].adopted || starts[1].pid !== starts[0].pid)
      throw new Error(`failover: the agent was not adopted: ${JSON.stringify(starts)}`);
    await failoverQueue.cancelTask("failover-1");
    await withBound("cancel", failoverQueue.waitForOutcome("failover-1"), STEP_BOUND_MS);

    const cancelQueue = await client("cancel");
    await start("cancel", ["c-0", "c-1"]);
    const cancelIds = Array.from({ length: CANCEL_SAMPLES }, (_, i) => `cancel-${i}`);
    const widgets = new Set();
    const watchingCancel = new AbortController();
    const allLive = (async () => {
      for await (const event of cancelQueue.watch({ signal: watchingCancel.signal })) {
        if (event.type === "task" && event.event.type === "widget") widgets.add(event.processId);
        if (widgets.size === cancelIds.length) return;
      }
    })();
    for (const processId of cancelIds) await cancelQueue.submitTask("scripted", { ms: 600_000 }, { processId });
    await withBound("cancel tasks live", allLive, STEP_BOUND_MS);
    watchingCancel.abort();
    const cancelling = spawnHelper("--canceller", [redis.url, "cancel"]);
    workers.push(cancelling);
    await cancelling.ready;
    const cancelLatencies = [];
    for (const processId of cancelIds) {
      const outcome = cancelQueue.waitForOutcome(processId);
      const stamp = cancelledStamp(cancelling.child, processId);
      cancelling.child.stdin.write(`${processId}\n`);
      const { status } = await withBound(processId, outcome, STEP_BOUND_MS);
      const seen = performance.timeOrigin + performance.now();
      if (status !== "cancelled") throw new Error(`cancel: ${processId} ended ${status}`);
      cancelLatencies.push(seen - (await withBound(`${processId} stamp`, stamp, STEP_BOUND_MS)));
    }
    cancelling.child.stdin.end();

    return {
      queue_dispatch_p50_ms: percentile(latencies, 50),
      queue_dispatch_p99_ms: percentile(latencies, 99),
      queue_throughput_tasks_per_s: THROUGHPUT_TASKS / queueSeconds,
      runtask_throughput_tasks_per_s: THROUGHPUT_TASKS / runTaskSeconds,
      queue_failover_s: failoverSeconds,
      queue_cancel_p50_ms: percentile(cancelLatencies, 50),
      queue_cancel_p99_ms: percentile(cancelLatencies, 99),
    };
  } finally {
    await Promise.allSettled(queues.map((q) => q.close()));
    for (const w of workers) w.child.kill("SIGKILL");
    await Promise.all(workers.map((w) => exited(w.child)));
    await Promise.allSettled([redis.stop(), postgres.stop()]);
    await rm(root, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--worker") await worker(process.argv.slice(3));
if (process.argv[2] === "--canceller") await canceller(process.argv.slice(3));
