// A small dashboard for optio tasks: start Claude Code (or opencode) from a
// page, watch progress live, open the agent's terminal, download what it
// delivers, cancel and resume. Only the packages' public APIs are used.
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { AgentNotRunningError, FileStateStore, createAgentTask, runTask } from "@optio/agents";
import { claudeCode } from "@optio/claudecode";
import { AGENT_CONFIG, ASKING, UNATTENDED, modelAccess } from "./agent-settings.mjs";
import { admit, decodeSegment, errorText, readJson, sendJson, serve } from "./http.mjs";
import { DASHBOARD_FLAGS, DASHBOARD_USAGE } from "./dashboard-flags.mjs";
import { queueSettings, startQueueDashboard } from "./queue-mode.mjs";
import { taskSummary } from "./task-summary.mjs";
import { ANSWERS, defaultDataDir, PROCESS_ID, parseSshTarget, safeJoin } from "./task-input.mjs";

const DEMO_INSTRUCTIONS = "Say hello, then describe in two sentences what you can do in this empty workspace.";

/** The adapters this dashboard can run: Claude Code always, opencode when its package is installed. */
async function loadAdapters() {
  const adapters = new Map([[claudeCode.id, claudeCode]]);
  try {
    const { openCode } = await import("@optio/opencode");
    if (openCode) adapters.set(openCode.id, openCode);
  } catch {
    // @optio/opencode is optional: without it the page offers Claude Code only.
  }
  return adapters;
}

/**
 * Starts the dashboard. Returns its URL (with the token in the fragment, which
 * browsers never send to the server), the token, and close().
 */
export async function startDashboard(options = {}) {
  const env = options.env ?? process.env;
  const dataDir = resolve(options.dataDir ?? env.OPTIO_DASHBOARD_DATA_DIR ?? defaultDataDir(env));
  const agentDir = options.agentDir ?? env.OPTIO_DASHBOARD_AGENT_DIR;
  const token = options.token ?? randomBytes(24).toString("base64url");
  const log = options.log ?? ((line) => process.stdout.write(`${line}\n`));
  const model = modelAccess(env);
  const adapters = await loadAdapters();
  const stateDir = join(dataDir, "state");
  const deliverablesDir = join(dataDir, "deliverables");
  const tasksFile = join(dataDir, "tasks.json");
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await mkdir(deliverablesDir, { recursive: true });
  const store = new FileStateStore({ dir: stateDir });

  /** processId → task record; `run` is the live runTask handle while it runs. */
  const tasks = new Map();
  const streams = new Set();
  let origin = "";

  try {
    for (const saved of JSON.parse(await readFile(tasksFile, "utf8"))) {
      if (!PROCESS_ID.test(saved.processId) || !adapters.has(saved.agent)) continue;
      const interrupted = saved.status === "starting" || saved.status === "running";
      tasks.set(saved.processId, {
        ...saved,
        status: interrupted ? "interrupted" : saved.status,
        terminalUrl: null,
        run: null,
        agentState: null,
        attention: null,
      });
    }
  } catch {
    // No tasks saved yet (or an unreadable file): start with an empty list.
  }

  const summary = (task) => taskSummary(task, adapters);

  let saving = Promise.resolve();
  const persist = () => {
    const list = [...tasks.values()].map((t) => {
      const { run: _run, agentTask: _agentTask, terminalUrl: _url, ...rest } = t;
      return rest;
    });
    saving = saving.then(() =>
      writeFile(tasksFile, JSON.stringify(list, null, 2)).catch((error) =>
        log(`could not save ${tasksFile}: ${errorText(error)}`),
      ),
    );
  };

  const broadcast = (task, event) => {
    const data = `event: task\ndata: ${JSON.stringify({ task: summary(task), event: event ?? null })}\n\n`;
    for (const res of streams) res.write(data);
  };

  function configFor(task) {
    const config = {
      ...AGENT_CONFIG[task.agent],
      ...(model ? { ...model, ...(task.ask ? ASKING : UNATTENDED)[task.agent] } : { autoStart: false }),
      consumerInstructions: task.instructions,
      terminal: { allowedOrigins: [origin] },
      onDeliverable: async (_ctx, path, text) => {
        const file = safeJoin(join(deliverablesDir, task.processId), path);
        if (!file) throw new Error(`deliverable path ${JSON.stringify(path)} escapes the deliverables directory`);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, text, "utf8");
        if (!task.deliverables.includes(path)) task.deliverables.push(path);
        persist();
        broadcast(task, { type: "deliverable", path });
      },
    };
    if (agentDir) config.installDir = resolve(agentDir);
    if (task.ssh) config.ssh = parseSshTarget(task.ssh);
    return config;
  }

  function launch(task, resume) {
    const adapter = adapters.get(task.agent);
    Object.assign(task, {
      status: "starting",
      percent: null,
      message: resume ? "resuming" : "starting",
      terminalUrl: null,
      outcome: null,
      agentState: null,
      attention: null,
    });
    const agentTask = createAgentTask(adapter, {
      processId: task.processId,
      name: `${adapter.displayName} ${task.processId}`,
      description: task.instructions.split("\n")[0].slice(0, 120) || `an interactive ${adapter.displayName} session`,
      config: configFor(task),
    });
    const run = runTask(agentTask, { store, resume });
    task.run = run;
    task.agentTask = agentTask;
    persist();
    broadcast(task, null);
    (async () => {
      for await (const event of run.events) {
        if (event.type === "progress") {
          if (event.percent !== null) task.percent = event.percent;
          if (event.message !== undefined) task.message = event.message;
        } else if (event.type === "widget") {
          task.terminalUrl = event.widget?.url ?? null;
          if (task.terminalUrl) task.status = "running";
        } else if (event.type === "saved-state") {
          task.savedState = true;
        } else if (event.type === "agent-state") {
          task.agentState = { state: event.state, ...(event.message && { message: event.message }) };
          // An episode that needed a person ends when the agent works again (or stops).
          if (!["waiting-permission", "waiting-input", "idle"].includes(event.state)) task.attention = null;
        } else if (event.type === "usage") {
          // The session's totals so far; a resumed task's continue the earlier run's.
          task.usage = event.total;
        }
        if (event.type === "attention") task.attention = event.reason;
        if (event.type === "report" || event.type === "attention") {
          task.reports.push(
            event.type === "report" ? `${event.level}: ${event.message}` : `attention: ${event.reason}`,
          );
        }
        if (event.type !== "outcome") broadcast(task, event);
      }
    })().catch((error) => log(`event stream of ${task.processId} failed: ${errorText(error)}`));
    run.outcome
      .then(
        (outcome) => outcome,
        (error) => ({ status: "failed", message: errorText(error) }),
      )
      .then((outcome) => {
        if (task.run !== run) return;
        task.run = null;
        task.status = outcome.status;
        task.attention = null;
        task.terminalUrl = null;
        // The last progress line would otherwise be the teardown's ("Saving a snapshot…"): a finished task shows what it did.
        if (outcome.status === "done") Object.assign(task, { percent: 100, message: outcome.summary ?? "done" });
        task.outcome = outcome.status === "failed" ? outcome.message : (outcome.summary ?? null);
        if (outcome.usage) task.usage = outcome.usage;
        persist();
        broadcast(task, {
          type: "outcome",
          outcome: { status: outcome.status, ...(outcome.status === "failed" && { message: outcome.message }) },
        });
      });
  }

  function startTask({ agent, instructions, ssh, ask }) {
    if (!adapters.has(agent)) return { error: `unknown agent ${JSON.stringify(agent)}` };
    if (typeof instructions !== "string") return { error: "instructions must be text" };
    const sshText = typeof ssh === "string" ? ssh.trim() : "";
    if (sshText && !parseSshTarget(sshText)) return { error: "SSH host must look like user@host or user@host:port" };
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
    let processId = `${agent}-${stamp}`;
    for (let n = 2; tasks.has(processId); n += 1) processId = `${agent}-${stamp}-${n}`;
    const task = {
      processId,
      agent,
      instructions,
      ssh: sshText || null,
      ask: ask === true,
      status: "starting",
      percent: null,
      message: null,
      terminalUrl: null,
      deliverables: [],
      reports: [],
      savedState: false,
      startedAt: new Date().toISOString(),
      outcome: null,
      run: null,
    };
    tasks.set(processId, task);
    launch(task, false);
    return { task };
  }

  async function serveDeliverable(res, task, path) {
    const file = safeJoin(join(deliverablesDir, task.processId), path);
    const info = file && (await stat(file).catch(() => null));
    if (!info?.isFile()) return sendJson(res, 404, { error: "no such deliverable" });
    res.writeHead(200, {
      "content-type": "application/octet-stream",
      "content-length": info.size,
      "content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent(basename(file))}`,
      "cache-control": "no-store",
    });
    createReadStream(file).pipe(res);
  }

  async function handle(req, res) {
    const url = await admit(req, res, token);
    if (!url) return;

    if (req.method === "GET" && url.pathname === "/api/agents") {
      return sendJson(
        res,
        200,
        [...adapters.values()].map((a) => ({ id: a.id, displayName: a.displayName })),
      );
    }
    if (req.method === "GET" && url.pathname === "/api/tasks") {
      return sendJson(res, 200, [...tasks.values()].map(summary));
    }
    if (req.method === "GET" && url.pathname === "/api/events") {
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        connection: "keep-alive",
      });
      res.write(`event: hello\ndata: ${JSON.stringify({ tasks: [...tasks.values()].map(summary) })}\n\n`);
      streams.add(res);
      req.on("close", () => streams.delete(res));
      return;
    }
    if (req.method === "POST" && url.pathname === "/api/tasks") {
      const result = startTask(await readJson(req));
      return result.error ? sendJson(res, 400, { error: result.error }) : sendJson(res, 201, summary(result.task));
    }
    const match = /^\/api\/tasks\/([A-Za-z0-9._-]+)(?:\/(cancel|resume|message|answer|deliverables)(?:\/(.+))?)?$/.exec(
      url.pathname,
    );
    const rest = match?.[3] === undefined ? undefined : decodeSegment(match[3]);
    const task = match && tasks.get(match[1]);
    if (!task) return sendJson(res, 404, { error: "no such task" });
    const action = match[2];
    if (req.method === "GET" && action === undefined) return sendJson(res, 200, summary(task));
    if (req.method === "POST" && action === "cancel" && !match[3]) {
      if (!task.run) return sendJson(res, 409, { error: "the task is not running" });
      task.message = "cancelling";
      broadcast(task, null);
      task.run.cancel();
      return sendJson(res, 202, summary(task));
    }
    if (req.method === "POST" && action === "message" && !match[3]) {
      const { text } = await readJson(req);
      if (typeof text !== "string" || text.trim() === "")
        return sendJson(res, 400, { error: "text must be a non-empty string" });
      if (!task.run) return sendJson(res, 409, { error: "the task is not running" });
      try {
        await task.agentTask.sendText(text, { submit: true });
      } catch (error) {
        if (AgentNotRunningError.isInstance(error))
          return sendJson(res, 409, { error: "the agent has not started yet" });
        throw error;
      }
      return sendJson(res, 202, summary(task));
    }
    if (req.method === "POST" && action === "answer" && !match[3]) {
      const { answer } = await readJson(req);
      if (!ANSWERS.includes(answer))
        return sendJson(res, 400, { error: `answer must be one of ${ANSWERS.join(", ")}` });
      const keys = adapters.get(task.agent).permissionKeys;
      if (!keys)
        return sendJson(res, 409, {
          error: `${adapters.get(task.agent).displayName} has no known keys for its permission prompt`,
        });
      if (!task.run || task.agentState?.state !== "waiting-permission")
        return sendJson(res, 409, { error: "no permission prompt is waiting" });
      try {
        await task.agentTask.sendKeys(answer === "approve" ? keys.approve : keys.deny);
      } catch (error) {
        if (AgentNotRunningError.isInstance(error)) return sendJson(res, 409, { error: "the agent is not running" });
        throw error;
      }
      return sendJson(res, 202, summary(task));
    }
    if (req.method === "POST" && action === "resume" && !match[3]) {
      if (task.run) return sendJson(res, 409, { error: "the task is still running" });
      launch(task, true);
      return sendJson(res, 202, summary(task));
    }
    if (req.method === "GET" && action === "deliverables" && match[3]) {
      return serveDeliverable(res, task, rest);
    }
    return sendJson(res, 404, { error: "not found" });
  }

  const served = await serve(
    handle,
    { host: options.host ?? env.HOST ?? "127.0.0.1", port: options.port ?? Number(env.PORT ?? 0) },
    streams,
  );
  const { server } = served;
  origin = served.origin;

  /** Starts one Claude Code task, so a newcomer sees Claude Code's own screen on the page. */
  function startDemo() {
    const demo = startTask({ agent: claudeCode.id, instructions: DEMO_INSTRUCTIONS, ssh: "" });
    log(
      `Demo: started ${demo.task.processId}; Claude Code is installed into the cache on first run (watch its progress on the page).`,
    );
    return demo.task.processId;
  }

  async function close() {
    const running = [...tasks.values()]
      .filter((t) => t.run)
      .map((t) => {
        t.run.cancel();
        return t.run.outcome.catch(() => null);
      });
    await Promise.race([Promise.all(running), new Promise((r) => setTimeout(r, 30_000).unref())]);
    for (const res of streams) res.end();
    streams.clear();
    await saving;
    await new Promise((resolveClose) => {
      server.close(() => resolveClose());
      server.closeAllConnections();
    });
  }

  return { url: `${origin}/#token=${token}`, origin, port: served.port, token, dataDir, startDemo, close };
}

async function main() {
  const { values } = parseArgs({ options: DASHBOARD_FLAGS, strict: true });
  if (values.help) {
    process.stdout.write(DASHBOARD_USAGE);
    return;
  }
  const listen = {
    ...(values.host !== undefined && { host: values.host }),
    ...(values.port !== undefined && { port: Number(values.port) }),
  };
  const queue = queueSettings(values, process.env);
  const dashboard = queue
    ? await startQueueDashboard({ ...listen, ...queue })
    : await startDashboard({ ...listen, ...(values["data-dir"] !== undefined && { dataDir: values["data-dir"] }) });
  process.stdout.write(`Dashboard: ${dashboard.url}\n`);
  if (values.demo) dashboard.startDemo();
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stdout.write(
      queue
        ? "Stopping: the tasks go on on their workers.\n"
        : "Stopping: cancelling running tasks (their state is saved for resume)…\n",
    );
    dashboard.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error) => {
    process.stderr.write(`dashboard: ${errorText(error)}\n`);
    process.exit(1);
  });
}
