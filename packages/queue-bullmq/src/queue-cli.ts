import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { AgentKey } from "@optio/agents";
import { CliUsageError } from "@optio/agents/cli";
import { OptioError } from "@optio/host";
import { PostgresStateStore } from "@optio/store-postgres";
import type { QueuedTask } from "./queue-records.js";
import type { AnyTaskKind } from "./task-kind.js";
import type { TaskInput } from "./task-input.js";
import { connectTaskQueue, type TaskQueue } from "./task-queue.js";
import { startWorker } from "./worker.js";

const HELP = `optio: run optio tasks on workers sharing a BullMQ queue (Redis) and a PostgreSQL state store.

Usage:
  optio worker --kinds MODULE [--concurrency N] [--worker-id ID]   take and run tasks until SIGINT/SIGTERM
  optio submit KIND --process-id ID --payload JSON --kinds MODULE [--wait]
  optio ls [--json]                                                every task: state, worker, progress, terminal URL
  optio cancel PROCESS_ID                                          stop a task wherever it runs
  optio resume PROCESS_ID [--wait]                                 run an ended task again (adopting or resuming its agent)
  optio send PROCESS_ID TEXT [--submit]                            type TEXT into a running task's agent
  optio send PROCESS_ID --keys KEY...                              press named keys there (Enter, Escape, Up, Down, 1, y…)

Options:
  --redis-url URL      the queue's Redis (default $OPTIO_REDIS_URL)
  --database-url URL   the PostgreSQL of the state store, for worker (default $OPTIO_DATABASE_URL)
  --queue NAME         the queue's name (default optio-tasks)
  --kinds MODULE       a module exporting the task kinds (default export or \`kinds\`: an array of defineTaskKind results)
  --concurrency N      tasks a worker runs at once (default 4)
  --worker-id ID       the worker's name in \`ls\` (default <hostname>-<pid>)
  --process-id ID      the submitted task's id
  --payload JSON       the submitted task's payload (default {})
  --wait               after submit or resume, print the outcome when the task ends; exit 1 unless it is done
  --submit             after send's TEXT, press Enter
  --keys               send named keys instead of text
  --json               print JSON
  -h, --help           show this help

A worker stopped by SIGINT or SIGTERM hands its running tasks back to the queue: another worker adopts their agents.
`;

const OPTIONS = {
  "redis-url": { type: "string" },
  "database-url": { type: "string" },
  queue: { type: "string" },
  kinds: { type: "string" },
  concurrency: { type: "string" },
  "worker-id": { type: "string" },
  "process-id": { type: "string" },
  payload: { type: "string" },
  wait: { type: "boolean" },
  submit: { type: "boolean" },
  keys: { type: "boolean" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const CLIENT_COMMANDS: readonly string[] = ["submit", "ls", "cancel", "resume", "send"];

export interface QueueCliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  stopRequested: Promise<void>;
}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

function required(value: string | undefined, flag: string, env?: string): string {
  if (value) return value;
  throw new CliUsageError(`${flag} is required${env ? ` (or set $${env})` : ""}`);
}

async function loadKinds(module: string | undefined): Promise<AnyTaskKind[]> {
  const file = required(module, "--kinds");
  const loaded = (await import(pathToFileURL(path.resolve(file)).href)) as { default?: unknown; kinds?: unknown };
  const kinds = loaded.kinds ?? loaded.default;
  if (!Array.isArray(kinds))
    throw new CliUsageError(`--kinds ${file}: the module must export an array of task kinds (as default or \`kinds\`)`);
  return kinds as AnyTaskKind[];
}

function row(task: QueuedTask): string {
  const progress = task.progress ? `${task.progress.percent ?? "-"}% ${task.progress.message ?? ""}`.trim() : "";
  const outcome =
    task.outcome?.status === "failed"
      ? task.outcome.message
      : task.outcome?.status === "done"
        ? (task.outcome.summary ?? "")
        : "";
  return [
    task.processId,
    task.kind,
    task.state + (task.cancelRequested && task.state === "running" ? " (cancelling)" : ""),
    task.worker ?? "-",
    progress || outcome,
    task.widgetUrl ?? "",
  ].join("\t");
}

async function worker(values: Values, io: QueueCliIo): Promise<number> {
  const redisUrl = required(values["redis-url"] ?? io.env.OPTIO_REDIS_URL, "--redis-url", "OPTIO_REDIS_URL");
  const databaseUrl = required(
    values["database-url"] ?? io.env.OPTIO_DATABASE_URL,
    "--database-url",
    "OPTIO_DATABASE_URL",
  );
  const store = new PostgresStateStore({ connectionString: databaseUrl });
  const started = await startWorker({
    redisUrl,
    ...(values.queue ? { queueName: values.queue } : {}),
    kinds: await loadKinds(values.kinds),
    store,
    ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
    ...(values["worker-id"] ? { workerId: values["worker-id"] } : {}),
    onError: (error) => io.err(`optio worker: ${error.message}\n`),
  });
  io.out(`worker ${started.id} is taking tasks\n`);
  await io.stopRequested;
  const handing = started.running();
  await started.close();
  await store.close();
  io.out(`worker ${started.id} stopped${handing.length > 0 ? `; handed over ${handing.join(", ")}` : ""}\n`);
  return 0;
}

/** The input `send` types: TEXT, or with --keys the named keys. */
function inputOf(words: string[], values: Values): TaskInput {
  if (values.keys) {
    if (words.length === 0) throw new CliUsageError("send --keys needs at least one KEY");
    return { type: "keys", keys: words as AgentKey[] };
  }
  if (words.length !== 1) throw new CliUsageError("send takes one TEXT (quote it)");
  return { type: "text", text: words[0] as string, ...(values.submit ? { submit: true } : {}) };
}

/** With --wait, prints the task's outcome once it ends; the exit code is 0 only for done. */
async function outcomeOf(queue: TaskQueue, processId: string, values: Values, io: QueueCliIo): Promise<number> {
  if (!values.wait) return 0;
  const outcome = await queue.waitForOutcome(processId);
  io.out(
    values.json
      ? `${JSON.stringify({ processId, outcome })}\n`
      : `${processId}: ${outcome.status}${outcome.status === "failed" ? `: ${outcome.message}` : outcome.status === "done" && outcome.summary ? `: ${outcome.summary}` : ""}\n`,
  );
  return outcome.status === "done" ? 0 : 1;
}

async function client(command: string, positionals: string[], values: Values, io: QueueCliIo): Promise<number> {
  const redisUrl = required(values["redis-url"] ?? io.env.OPTIO_REDIS_URL, "--redis-url", "OPTIO_REDIS_URL");
  const kinds = command === "submit" ? await loadKinds(values.kinds) : [];
  const queue = connectTaskQueue({ redisUrl, ...(values.queue ? { queueName: values.queue } : {}), kinds });
  try {
    if (command === "ls") {
      const tasks = await queue.listTasks();
      io.out(values.json ? `${JSON.stringify(tasks)}\n` : tasks.map((task) => `${row(task)}\n`).join(""));
      return 0;
    }
    const target = positionals[0];
    if (command === "cancel") {
      await queue.cancelTask(required(target, "PROCESS_ID"));
      io.out(`cancel requested for ${target}\n`);
      return 0;
    }
    if (command === "resume") {
      await queue.resumeTask(required(target, "PROCESS_ID"));
      io.out(values.json ? "" : `resume requested for ${target}\n`);
      return await outcomeOf(queue, target as string, values, io);
    }
    if (command === "send") {
      await queue.sendToTask(required(target, "PROCESS_ID"), inputOf(positionals.slice(1), values));
      io.out(`sent to ${target}\n`);
      return 0;
    }
    const processId = required(values["process-id"], "--process-id");
    let payload: unknown;
    try {
      payload = JSON.parse(values.payload ?? "{}");
    } catch (error) {
      throw new CliUsageError(`--payload is not JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    await queue.submitTask(required(target, "KIND"), payload, { processId });
    io.out(values.json ? "" : `submitted ${processId}\n`);
    return await outcomeOf(queue, processId, values, io);
  } finally {
    await queue.close();
  }
}

/** Runs `optio worker|submit|ls|cancel|resume|send` with `argv` (no node and script); resolves to the exit code. */
export async function runQueueCli(argv: string[], io: QueueCliIo): Promise<number> {
  try {
    const { values, positionals } = (() => {
      try {
        return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
      } catch (error) {
        throw new CliUsageError(error instanceof Error ? error.message : String(error));
      }
    })();
    const [command, ...rest] = positionals;
    if (values.help || command === undefined) {
      io.out(HELP);
      return values.help ? 0 : 2;
    }
    if (command === "worker") return await worker(values, io);
    if (CLIENT_COMMANDS.includes(command)) return await client(command, rest, values, io);
    throw new CliUsageError(`unknown command ${JSON.stringify(command)} (worker, ${CLIENT_COMMANDS.join(", ")})`);
  } catch (error) {
    if (CliUsageError.isInstance(error)) {
      io.err(`optio: ${error.message}\n`);
      return 2;
    }
    io.err(
      `optio: ${OptioError.isInstance(error) ? `${error.code}: ` : ""}${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
}
