#!/usr/bin/env node
// One program, one set of instructions, any agent: `--agent` picks the
// adapter and nothing else changes. Only the packages' public APIs are used.
import { realpathSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { FileStateStore, createAgentTask, runTask } from "@optio/agents";
import { startScriptedModel } from "@optio/agents/testing";
import { claudeCode } from "@optio/claudecode";
import { codex } from "@optio/codex";
import { openCode } from "@optio/opencode";

/** Every agent this program can run. Adding one is one line. */
export const AGENTS = { claudecode: claudeCode, opencode: openCode, codex };

/** The same instructions, whichever agent gets them. */
export const INSTRUCTIONS = [
  "Write a haiku about handing the same job to a different coding agent.",
  "Save it as deliverables/haiku.md and report it as a deliverable.",
  "Report your progress as you go, then finish.",
].join(" ");

/** Per agent: its shell tool, the one tool the scripted answers call, as its model calls it. */
const SHELL_TOOL = {
  claudecode: (command, description) => ({ name: "Bash", input: { command, description } }),
  opencode: (command, description) => ({ name: "bash", input: { command, description } }),
  codex: (command) => ({ name: "exec_command", input: { cmd: command } }),
};

/**
 * What a model would answer to INSTRUCTIONS, as tool calls in the agent's own
 * tool names: write the haiku, report it, finish. `--scripted` serves these
 * from a stand-in model API on 127.0.0.1, so the agents do the job without an
 * account or a network.
 */
export function scriptedTurns(agent) {
  const shell = SHELL_TOOL[agent];
  if (!shell) throw new Error(`no scripted answers for agent ${JSON.stringify(agent)}`);
  return [
    {
      text: "Writing the haiku.",
      toolCalls: [
        shell(
          "mkdir -p deliverables && printf 'Same words, new hands\\nthe job moves from shell to shell\\noptio keeps the log\\n' > deliverables/haiku.md && echo 'STATUS: 50% haiku written' >> optio.log && echo 'DELIVERABLE: deliverables/haiku.md' >> optio.log",
          "Write and report the haiku",
        ),
      ],
    },
    { toolCalls: [shell("echo 'DONE: haiku written' >> optio.log", "Finish")] },
    { text: "Done: deliverables/haiku.md." },
  ];
}

/** Per agent: what lets it run the scripted tool calls without asking a person. */
const UNATTENDED = {
  claudecode: { permissionMode: "bypassPermissions" },
  opencode: {},
  // Codex's commands still run in its sandbox, which lets them write the workdir only.
  codex: { codexOverrides: ['approval_policy="never"', 'sandbox_mode="workspace-write"'] },
};

/** Per agent: the variable its model API key goes in, and what else it needs to work against the scripted model. */
const SCRIPTED = {
  claudecode: { keyEnv: "ANTHROPIC_API_KEY" },
  opencode: { keyEnv: "ANTHROPIC_API_KEY" },
  // A model Codex has no metadata for gets its plain shell tool (`exec_command`), the one the scripted answers call;
  // no plugins, whose sync would clone a repository from github.com; a proxy on a closed local port for what else it
  // fetches on start (its announcement tip), so it reaches nothing but 127.0.0.1, directly.
  codex: {
    keyEnv: "OPENAI_API_KEY",
    env: { HTTPS_PROXY: "http://127.0.0.1:9", HTTP_PROXY: "http://127.0.0.1:9", NO_PROXY: "127.0.0.1" },
    config: {
      codexOverrides: [...UNATTENDED.codex.codexOverrides, 'model="scripted-model"', "features.plugins=false"],
    },
  },
};

const USAGE = `usage: swap-agents --agent claudecode|opencode|codex|claudecode,opencode,… [--ssh user@host[:port] [--identity FILE] [--known-hosts FILE]]
                   [--install-dir DIR] [--process-id ID] [--out DIR] [--state-dir DIR] [--env NAME=VALUE]...
                   [--api-base-url URL | --scripted]`;
const SSH_TARGET = /^([^@\s:]+)@([^@\s:]+)(?::(\d{1,5}))?$/;

/** `user@host[:port]` plus key and known_hosts files → the `ssh` block of a task config. */
export function sshConfig(target, { identity, knownHosts } = {}) {
  const match = SSH_TARGET.exec(target);
  if (!match) throw new Error(`--ssh must look like user@host or user@host:port, got ${JSON.stringify(target)}`);
  const [, username, host, port] = match;
  return {
    host,
    username,
    ...(port && { port: Number(port) }),
    ...(identity && { identityFile: resolve(identity) }),
    ...(knownHosts && { knownHostsFile: resolve(knownHosts) }),
  };
}

/** `<base>/<path>`, or null when the path would land outside base. */
function inside(base, path) {
  const target = resolve(base, path);
  const rel = relative(resolve(base), target);
  return rel && !rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel) ? target : null;
}

function describe(event) {
  switch (event.type) {
    case "progress":
      return `progress   ${event.percent === null ? "   " : `${String(event.percent).padStart(3)}%`} ${event.message ?? ""}`.trimEnd();
    case "widget":
      return event.widget ? `terminal   ${event.widget.url}` : null;
    case "report":
      return `${event.level.padEnd(10)} ${event.message}`;
    case "browser":
      return `browser    ${event.url}`;
    case "attention":
      return `attention  ${event.reason}`;
    default:
      return null;
  }
}

/**
 * Runs the instructions with one agent and returns what happened: the
 * outcome, every progress message, and the deliverables (also saved under `out`).
 * `apiBaseUrl` points the agent at a model API and lets it work unattended;
 * `agentConfig` adds the agent's own config fields.
 */
export async function swapAgents(options) {
  const adapter = AGENTS[options.agent];
  if (!adapter)
    throw new Error(`--agent must be one of ${Object.keys(AGENTS).join(", ")}, got ${JSON.stringify(options.agent)}`);
  const print = options.print ?? ((line) => console.log(line));
  const processId = options.processId ?? `swap-${options.agent}-${Date.now().toString(36)}`;
  const out = resolve(options.out ?? join("deliverables", processId));
  const deliverables = [];
  const progress = [];

  const task = createAgentTask(adapter, {
    processId,
    name: `swap-agents (${adapter.displayName})`,
    config: {
      consumerInstructions: INSTRUCTIONS,
      env: options.env ?? {},
      supportsResume: false,
      ...(options.installDir && { installDir: options.installDir }),
      ...(options.ssh && { ssh: options.ssh }),
      ...(options.apiBaseUrl && { apiBaseUrl: options.apiBaseUrl, ...UNATTENDED[options.agent] }),
      ...options.agentConfig,
      async onDeliverable(_ctx, path, text) {
        const target = inside(out, path);
        if (!target) throw new Error(`deliverable path ${JSON.stringify(path)} leaves ${out}`);
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, text);
        deliverables.push({ path, text });
        print(`deliverable ${path} (${Buffer.byteLength(text)} bytes) → ${target}`);
      },
    },
  });

  print(
    `Running ${adapter.displayName} ${options.ssh ? `on ${options.ssh.username}@${options.ssh.host}` : "on this machine"} as ${processId}`,
  );
  const store = new FileStateStore({
    dir: options.stateDir ?? join(homedir(), ".local", "share", "optio-swap-agents"),
  });
  const run = runTask(task, { store, signal: options.signal });
  for await (const event of run.events) {
    if (event.type === "progress" && event.message) progress.push(event.message);
    const line = describe(event);
    if (line) print(line);
  }
  const outcome = await run.outcome;
  print(`outcome    ${outcome.status}${outcome.status === "failed" ? `: ${outcome.message}` : ""}`);
  return { processId, outcome, progress, deliverables };
}

/** One line per agent: its outcome and what it delivered, so the runs can be compared at a glance. */
export function summaryLines(results) {
  return results.map(({ agent, outcome, deliverables }) => {
    const how =
      outcome.status === "failed"
        ? `${outcome.status}: ${outcome.message}`
        : outcome.summary
          ? `${outcome.status}: ${outcome.summary}`
          : outcome.status;
    const what =
      deliverables.length > 0
        ? deliverables.map((d) => `${d.path} (${Buffer.byteLength(d.text)} bytes)`).join(", ")
        : "no deliverables";
    return `summary    ${agent.padEnd(10)} ${how}; ${what}`;
  });
}

/** The command line; returns the exit code. */
export async function main(argv, { print = (line) => console.log(line), signal } = {}) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        agent: { type: "string" },
        ssh: { type: "string" },
        identity: { type: "string" },
        "known-hosts": { type: "string" },
        "install-dir": { type: "string" },
        "process-id": { type: "string" },
        out: { type: "string" },
        "state-dir": { type: "string" },
        env: { type: "string", multiple: true },
        "api-base-url": { type: "string" },
        scripted: { type: "boolean" },
        help: { type: "boolean" },
      },
    }));
    if (values.help) {
      print(USAGE);
      return 0;
    }
    if (!values.agent) throw new Error("--agent is required");
    if (!values.ssh && (values.identity || values["known-hosts"]))
      throw new Error("--identity and --known-hosts need --ssh");
    const env = Object.fromEntries(
      (values.env ?? []).map((pair) => {
        const at = pair.indexOf("=");
        if (at < 1) throw new Error(`--env takes NAME=VALUE, got ${JSON.stringify(pair)}`);
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
    );
    if (values.scripted && values["api-base-url"]) throw new Error("--scripted and --api-base-url exclude each other");
    const agents = values.agent.split(",").map((name) => name.trim());
    for (const agent of agents)
      if (!AGENTS[agent])
        throw new Error(`--agent must be one of ${Object.keys(AGENTS).join(", ")}, got ${JSON.stringify(agent)}`);
    // Every agent's answers exist before the first one runs.
    if (values.scripted) for (const agent of agents) scriptedTurns(agent);
    if (values["process-id"] && agents.length > 1)
      throw new Error("--process-id names one task: give one --agent with it");
    const ssh = values.ssh
      ? sshConfig(values.ssh, { identity: values.identity, knownHosts: values["known-hosts"] })
      : undefined;
    const results = [];
    for (const agent of agents) {
      // Each agent gets a stand-in of its own, answering in its own tool names from the first turn.
      const model = values.scripted ? await startScriptedModel({ turns: scriptedTurns(agent) }) : null;
      // A model API takes a key; the stand-in accepts any.
      const { keyEnv, config, env: localOnly } = SCRIPTED[agent];
      const agentEnv = model ? { [keyEnv]: "sk-scripted-stand-in-key", ...localOnly, ...env } : env;
      const result = await swapAgents({
        agent,
        apiBaseUrl: model?.url ?? values["api-base-url"],
        ssh,
        installDir: values["install-dir"] && resolve(values["install-dir"]),
        processId: values["process-id"],
        out: values.out && (agents.length > 1 ? join(values.out, agent) : values.out),
        stateDir: values["state-dir"],
        env: agentEnv,
        ...(model && config && { agentConfig: config }),
        print,
        signal,
      }).finally(() => model?.close());
      results.push({ agent, ...result });
      if (signal?.aborted) break;
    }
    if (results.length > 1) for (const line of summaryLines(results)) print(line);
    const statuses = results.map((r) => r.outcome.status);
    return statuses.every((s) => s === "done") ? 0 : statuses.includes("cancelled") ? 130 : 1;
  } catch (error) {
    print(`swap-agents: ${error instanceof Error ? error.message : String(error)}`);
    print(USAGE);
    return 2;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  const abort = new AbortController();
  process.once("SIGINT", () => abort.abort());
  process.exitCode = await main(process.argv.slice(2), { signal: abort.signal });
}
