// The dashboard's queue mode: tasks run on `optio worker` processes sharing a BullMQ queue (Redis) and a
// PostgreSQL state store; this process only submits them, lists them, follows their events and cancels them,
// wherever they run. Every worker and this dashboard load the same task kinds module.
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  connectTaskQueue,
  TaskExistsError,
  TaskInputError,
  TaskNotFoundError,
  TaskNotRunningError,
  TaskPayloadError,
  TaskResumeError,
  UnknownTaskKindError,
} from "@optio/queue-bullmq";
import { PostgresStateStore } from "@optio/store-postgres";
import { parseDeliverableReport } from "./deliverable-report.mjs";
import { ANSWERS } from "./task-input.mjs";
import { admit, decodeSegment, errorText, readJson, sendJson, serve } from "./http.mjs";

const DEFAULT_KINDS = fileURLToPath(new URL("./queue-kinds.mjs", import.meta.url));
/** How often the list is read again from the queue: it catches tasks submitted elsewhere and events missed while away. */
const REFRESH_MS = 5_000;

export const QUEUE_FLAGS = {
  "redis-url": { type: "string" },
  "database-url": { type: "string" },
  kinds: { type: "string" },
};
export const QUEUE_USAGE =
  "  --redis-url     queue mode: tasks run on `optio worker` processes sharing this Redis (or $OPTIO_REDIS_URL)\n" +
  "  --database-url  queue mode: their PostgreSQL state store (or $OPTIO_DATABASE_URL)\n" +
  "  --kinds         queue mode: the task kinds module the workers load (default src/queue-kinds.mjs)\n";

/** The queue settings from the flags or the environment, or null for the embedded single-process mode. */
export function queueSettings(values, env) {
  const redisUrl = values["redis-url"] ?? env.OPTIO_REDIS_URL;
  const databaseUrl = values["database-url"] ?? env.OPTIO_DATABASE_URL;
  if (!redisUrl && !databaseUrl) return null;
  if (values.demo) throw new Error("--demo starts a task in this process; queue mode runs none here");
  if (!redisUrl || !databaseUrl)
    throw new Error(
      "queue mode needs both --redis-url and --database-url (or $OPTIO_REDIS_URL and $OPTIO_DATABASE_URL)",
    );
  return { redisUrl, databaseUrl, ...(values.kinds && { kinds: values.kinds }) };
}

const REFUSED = [TaskPayloadError, UnknownTaskKindError, TaskExistsError];
/** What the queue answers when a running task's agent cannot take input now: the request was fine, the moment not. */
const NOT_NOW = [TaskNotRunningError, TaskInputError, TaskResumeError];

/** What the queue kept of a task's reports, as the page shows them: its deliverables (with their blobs) and notes. */
function fromReports(reports) {
  const seen = { deliverables: [], reports: [], blobs: {} };
  for (const { level, message } of reports ?? []) {
    const stored = parseDeliverableReport(message);
    if (!stored) seen.reports = [...seen.reports, `${level}: ${message}`].slice(-5);
    else {
      if (!seen.deliverables.includes(stored.path)) seen.deliverables.push(stored.path);
      seen.blobs[stored.path] = stored.id;
    }
  }
  return seen;
}

/** The page's view of a queued task, in the shape the embedded mode gives it, plus the worker that runs it. */
function fromQueue(queued, known) {
  const reported = fromReports(queued.reports);
  const outcome = queued.outcome;
  const ended = Boolean(outcome) && queued.state !== "running" && queued.state !== "waiting";
  return {
    processId: queued.processId,
    agent: queued.kind,
    agentName: known?.agentName ?? queued.kind,
    instructions: known?.instructions ?? "",
    ssh: null,
    status: queued.state === "waiting" ? "queued" : queued.state,
    percent: ended && outcome.status === "done" ? 100 : (queued.progress?.percent ?? null),
    message: ended && outcome.status === "done" ? (outcome.summary ?? "done") : (queued.progress?.message ?? null),
    terminalUrl: ended ? null : (queued.widgetUrl ?? null),
    deliverables: reported.deliverables,
    reports: reported.reports,
    savedState: false,
    startedAt: queued.submittedAt,
    outcome: outcome ? (outcome.status === "failed" ? outcome.message : (outcome.summary ?? null)) : null,
    ask: known?.ask ?? false,
    agentState: known?.agentState ?? null,
    attention: known?.attention ?? null,
    worker: queued.worker ?? null,
    usage: known?.usage ?? outcome?.usage ?? null,
    blobs: reported.blobs,
  };
}

/** Applies one live event of the queue to the task's view. */
function applyEvent(task, event) {
  if (event.type === "started")
    Object.assign(task, {
      status: "running",
      worker: event.worker,
      message: `taken by ${event.worker}`,
      outcome: null,
      ...(event.run > 1 && { percent: null }),
    });
  if (event.type === "outcome") {
    const { outcome } = event;
    Object.assign(task, {
      status: outcome.status,
      terminalUrl: null,
      attention: null,
      outcome: outcome.status === "failed" ? outcome.message : (outcome.summary ?? null),
    });
    if (outcome.status === "done") Object.assign(task, { percent: 100, message: outcome.summary ?? "done" });
    if (outcome.usage) task.usage = outcome.usage;
  }
  if (event.type !== "task") return;
  const inner = event.event;
  if (inner.type === "progress") {
    if (inner.percent !== null) task.percent = inner.percent;
    if (inner.message !== undefined) task.message = inner.message;
  } else if (inner.type === "widget") {
    task.terminalUrl = inner.widget?.url ?? null;
  } else if (inner.type === "agent-state") {
    task.agentState = { state: inner.state, ...(inner.message && { message: inner.message }) };
    if (!["waiting-permission", "waiting-input", "idle"].includes(inner.state)) task.attention = null;
  } else if (inner.type === "attention") {
    task.attention = inner.reason;
    task.reports = [...task.reports, `attention: ${inner.reason}`].slice(-5);
  } else if (inner.type === "usage") {
    task.usage = inner.total;
  } else if (inner.type === "report") {
    const stored = parseDeliverableReport(inner.message);
    if (!stored) task.reports = [...task.reports, `${inner.level}: ${inner.message}`].slice(-5);
    else if (!task.deliverables.includes(stored.path)) task.deliverables = [...task.deliverables, stored.path];
    if (stored) task.blobs = { ...task.blobs, [stored.path]: stored.id };
  }
}

/**
 * Starts the dashboard in queue mode: the same page and token as the embedded
 * mode, the tasks those of the queue. Returns what startDashboard returns.
 */
export async function startQueueDashboard(options) {
  const env = options.env ?? process.env;
  const token = options.token ?? randomBytes(24).toString("base64url");
  const log = options.log ?? ((line) => process.stdout.write(`${line}\n`));
  const kindsModule = resolve(options.kinds ?? DEFAULT_KINDS);
  const loaded = await import(pathToFileURL(kindsModule).href);
  const kinds = loaded.kinds ?? loaded.default;
  if (!Array.isArray(kinds) || kinds.length === 0)
    throw new Error(`${kindsModule} must export a non-empty array of task kinds as \`kinds\``);
  const store = new PostgresStateStore({ connectionString: options.databaseUrl });
  const queue = connectTaskQueue({
    redisUrl: options.redisUrl,
    kinds,
    ...(options.queueName && { queueName: options.queueName }),
  });
  const tasks = new Map();
  const streams = new Set();
  let origin = "";

  const kindOf = (task) => kinds.find((k) => k.name === task.agent);
  // What the page may ask of a task, from its state: answer a waiting prompt when the agent's keys are known, or
  // resume it once it has ended.
  const withActions = (task) =>
    Object.assign(task, {
      canAnswer: Boolean(
        task.status === "running" && task.agentState?.state === "waiting-permission" && kindOf(task)?.permissionKeys,
      ),
      canResume: !["queued", "running"].includes(task.status),
    });
  const broadcast = (task) => {
    withActions(task);
    const data = `event: task\ndata: ${JSON.stringify({ task, event: null })}\n\n`;
    for (const res of streams) res.write(data);
  };
  const refresh = async () => {
    for (const queued of await queue.listTasks()) {
      const next = withActions(fromQueue(queued, tasks.get(queued.processId)));
      if (JSON.stringify(next) === JSON.stringify(tasks.get(queued.processId))) continue;
      tasks.set(queued.processId, next);
      broadcast(next);
    }
  };

  const watching = new AbortController();
  const following = (async () => {
    for await (const event of queue.watch({ signal: watching.signal })) {
      let task = tasks.get(event.processId);
      if (!task) {
        const queued = await queue.getTask(event.processId);
        if (!queued) continue;
        task = tasks.get(event.processId) ?? fromQueue(queued);
        tasks.set(task.processId, task);
      }
      applyEvent(task, event);
      broadcast(task);
    }
  })().catch((error) => log(`watching the queue failed: ${errorText(error)}`));
  await refresh();
  const refresher = setInterval(
    () => refresh().catch((error) => log(`reading the queue failed: ${errorText(error)}`)),
    REFRESH_MS,
  );

  async function submit({ agent, instructions, ask, ssh }) {
    if (typeof instructions !== "string") return { status: 400, error: "instructions must be text" };
    if (typeof ssh === "string" && ssh.trim() !== "")
      return { status: 400, error: "queue mode takes no SSH host: a task runs where the worker that takes it runs" };
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
    const processId = `${agent}-${stamp}-${randomBytes(3).toString("hex")}`;
    try {
      await queue.submitTask(String(agent), { instructions, ask: ask === true, origin }, { processId });
    } catch (error) {
      if (REFUSED.some((type) => type.isInstance(error))) return { status: 400, error: errorText(error) };
      throw error;
    }
    const kind = kinds.find((k) => k.name === agent);
    const submitted = { instructions, ask: ask === true, agentName: kind.displayName ?? kind.name };
    const queued = await queue.getTask(processId);
    // A worker may have taken the task already, and its first events made the row while this read was under way:
    // that row keeps them and gains what only the submitter knows.
    const seen = tasks.get(processId);
    const task = seen ? Object.assign(seen, submitted) : fromQueue(queued, { ...submitted, reports: [] });
    tasks.set(processId, task);
    broadcast(task);
    return { task };
  }

  /** A deliverable's text, read from the blob the worker stored it in. */
  async function serveDeliverable(res, task, path) {
    const id = Object.hasOwn(task.blobs, path) ? task.blobs[path] : undefined;
    if (!id) return sendJson(res, 404, { error: "no such deliverable" });
    const blob = await store.getBlob(id);
    res.writeHead(200, {
      "content-type": "application/octet-stream",
      "content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent(path.split("/").pop())}`,
      "cache-control": "no-store",
    });
    await pipeline(blob, res);
  }

  /** Why the page's request cannot be made of the task as it stands (status and message), or nothing. */
  function checkRequest(action, task, body) {
    if (action === "message" && (typeof body.text !== "string" || body.text.trim() === ""))
      return { status: 400, error: "text must be a non-empty string" };
    if (action === "answer" && !ANSWERS.includes(body.answer))
      return { status: 400, error: `answer must be one of ${ANSWERS.join(", ")}` };
    if (action === "answer" && !kindOf(task)?.permissionKeys)
      return { status: 409, error: `${task.agentName} has no known keys for its permission prompt` };
    if (action === "answer" && !withActions(task).canAnswer)
      return { status: 409, error: "no permission prompt is waiting" };
    if (action === "resume" && !withActions(task).canResume) return { status: 409, error: "the task is still running" };
    return null;
  }

  /** Hands the page's request to the queue: typed on the worker that runs the task, or the task queued again. */
  async function act(action, task, body) {
    if (action === "message") return queue.sendToTask(task.processId, { type: "text", text: body.text, submit: true });
    if (action === "answer") {
      const keys = kindOf(task).permissionKeys;
      return queue.sendToTask(task.processId, {
        type: "keys",
        keys: body.answer === "approve" ? keys.approve : keys.deny,
      });
    }
    await queue.resumeTask(task.processId);
    Object.assign(task, { status: "queued", message: "resuming", terminalUrl: null });
    broadcast(task);
  }

  async function handle(req, res) {
    const url = await admit(req, res, token);
    if (!url) return;
    if (req.method === "GET" && url.pathname === "/api/agents")
      return sendJson(
        res,
        200,
        kinds.map((k) => ({ id: k.name, displayName: k.displayName ?? k.name })),
      );
    if (req.method === "GET" && url.pathname === "/api/tasks") return sendJson(res, 200, [...tasks.values()]);
    if (req.method === "GET" && url.pathname === "/api/events") {
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        connection: "keep-alive",
      });
      res.write(`event: hello\ndata: ${JSON.stringify({ tasks: [...tasks.values()] })}\n\n`);
      streams.add(res);
      req.on("close", () => streams.delete(res));
      return;
    }
    if (req.method === "POST" && url.pathname === "/api/tasks") {
      const result = await submit(await readJson(req));
      return result.error ? sendJson(res, result.status, { error: result.error }) : sendJson(res, 201, result.task);
    }
    const match = /^\/api\/tasks\/([A-Za-z0-9._-]+)(?:\/([a-z]+)(?:\/(.+))?)?$/.exec(url.pathname);
    const task = match && tasks.get(match[1]);
    if (!task) return sendJson(res, 404, { error: "no such task" });
    if (req.method === "GET" && match[2] === undefined) return sendJson(res, 200, task);
    if (req.method === "GET" && match[2] === "deliverables" && match[3])
      return serveDeliverable(res, task, decodeSegment(match[3]));
    if (req.method === "POST" && match[2] === "cancel") {
      if (!["queued", "running"].includes(task.status)) return sendJson(res, 409, { error: "the task is not running" });
      try {
        await queue.cancelTask(task.processId);
      } catch (error) {
        if (TaskNotFoundError.isInstance(error)) return sendJson(res, 404, { error: "no such task in the queue" });
        throw error;
      }
      task.message = "cancelling";
      broadcast(task);
      return sendJson(res, 202, task);
    }
    if (req.method === "POST" && ["message", "answer", "resume"].includes(match[2]) && !match[3]) {
      const body = await readJson(req);
      const refused = checkRequest(match[2], task, body);
      if (refused) return sendJson(res, refused.status, { error: refused.error });
      try {
        await act(match[2], task, body);
      } catch (error) {
        if (NOT_NOW.some((type) => type.isInstance(error))) return sendJson(res, 409, { error: errorText(error) });
        if (TaskNotFoundError.isInstance(error)) return sendJson(res, 404, { error: "no such task in the queue" });
        throw error;
      }
      return sendJson(res, 202, task);
    }
    return sendJson(res, 404, { error: "not found" });
  }

  const served = await serve(
    handle,
    { host: options.host ?? env.HOST ?? "127.0.0.1", port: options.port ?? Number(env.PORT ?? 0) },
    streams,
  );
  const { server, port } = served;
  origin = served.origin;

  /** Stops serving; the tasks go on on their workers. */
  async function close() {
    clearInterval(refresher);
    watching.abort();
    await following;
    for (const res of streams) res.end();
    streams.clear();
    await Promise.all([queue.close(), store.close()]);
    await new Promise((resolveClose) => {
      server.close(() => resolveClose());
      server.closeAllConnections();
    });
  }

  return { url: `${origin}/#token=${token}`, origin, port, token, close };
}
