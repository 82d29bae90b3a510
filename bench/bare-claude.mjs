// What the Claude Code benches share: the measured claude and a temp root for
// their tasks, and the floor they measure against: the same claude binary,
// with the adapter's planted HOME, env and argv, started bare in tmux by the
// bench itself (no optio session around it).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseAgentConfig } from "../packages/agents/dist/index.js";
import { installFromRegistry } from "../packages/agents/dist/install.js";
import { claudeCode } from "../packages/claudecode/dist/index.js";
import { claudeRegistryPackage } from "../packages/claudecode/dist/install.js";
import { envAssignments, LocalHost, shellCommand, shellQuote } from "../packages/host/dist/index.js";

const execFileAsync = promisify(execFile);
const asRoot = process.getuid?.() === 0;

/** The claude the scripted-model benches measure: the one the real-binary tests pin, whose requests the scripted model speaks. */
export const PINNED_CLAUDE = "2.1.332";
/** The key those benches give claude: it only ever reaches the scripted model on 127.0.0.1. */
export const BENCH_API_KEY = "sk-ant-bench-scripted-key-0123456789abcdef";

/** A process id no earlier run used. */
export const benchId = (what) => `bench-${what}-${randomBytes(3).toString("hex")}`;

/** `version` (the registry's latest when undefined) from the shared cache, downloaded into it when missing: `{ version, binaryPath }`. */
export async function installMeasuredClaude(version) {
  const host = new LocalHost({
    consumer: "optio-bench",
    processId: benchId("install"),
    env: { OPTIO_BENCH_TASK_ROOT: join(tmpdir(), "optio-bench-install") },
  });
  await host.connect();
  try {
    // One line per step (downloading, copying), not one per progress tick.
    let step = "";
    const reportProgress = (_percent, message) => {
      const now = message?.split(" ")[0] ?? "";
      if (now !== step) process.stderr.write(`  claude: ${message}\n`);
      step = now;
    };
    const installed = await installFromRegistry(
      { host, reportProgress, signal: new AbortController().signal },
      { ...claudeRegistryPackage, version },
    );
    process.stderr.write(`  claude ${installed.version} at ${installed.binaryPath}\n`);
    return installed;
  } finally {
    await host.remove(host.taskDir).catch(() => {});
    await host.disconnect();
  }
}

const ROOT_VARS = ["OPTIO_CLAUDECODE_TASK_ROOT", "OPTIO_CLAUDECODE_REMOTE_TASK_ROOT"];

/**
 * The measured claude (`version`, or the registry's latest) and a temp root
 * that holds the bench's task dirs (local and remote) and `binDir`, the
 * install dir linked to the cached binary: the steady state of a machine that
 * ran claude before. cleanup() restores the task-root variables and removes the root.
 */
export async function prepareClaudeBench(name, version) {
  const claude = await installMeasuredClaude(version);
  const root = await mkdtemp(join(tmpdir(), `optio-bench-${name}-`));
  const saved = ROOT_VARS.map((key) => process.env[key]);
  process.env.OPTIO_CLAUDECODE_TASK_ROOT = join(root, "tasks");
  process.env.OPTIO_CLAUDECODE_REMOTE_TASK_ROOT = join(root, "remote-tasks");
  const binDir = join(root, "bin");
  await mkdir(binDir, { recursive: true });
  await symlink(claude.binaryPath, join(binDir, "claude"));
  const cleanup = async () => {
    ROOT_VARS.forEach((key, i) => {
      if (saved[i] === undefined) delete process.env[key];
      else process.env[key] = saved[i];
    });
    await rm(root, { recursive: true, force: true });
  };
  return { claude, root, binDir, cleanup };
}

/**
 * Starts `claude` (installed as `{ version, binaryPath }`, linked in `binDir`)
 * bare in a tmux session of its own: the adapter's planted HOME, env and
 * argv for `configInput`, `files` (name → text) written into the workdir
 * first, `firstMessage` as the kickoff. Returns the pane's tmux runner, the
 * workdir, the moment tmux was asked to start it, and stop(), which waits for
 * claude's whole process tree as optio's teardown does.
 */
export async function startBareClaude({ root, binDir, claude, configInput = {}, files = {}, firstMessage }) {
  const host = new LocalHost({
    consumer: "optio-bench",
    processId: benchId("floor"),
    env: { OPTIO_BENCH_TASK_ROOT: join(root, "floor") },
  });
  await host.connect();
  const socket = join(host.taskDir, "tmux.sock");
  const tmux = (...args) => execFileAsync("tmux", ["-S", socket, ...args], { env: { ...process.env, TMUX: "" } });
  const stop = async () => {
    // Left to tmux's SIGHUP, claude outlives the server by a second or more (shutting down its git and ssh
    // children) and the next measurement shares the CPU with it; optio's teardown waits for the whole tree,
    // so the floor does the same.
    const pane = await tmux("list-panes", "-t", "floor", "-F", "#{pane_pid}").then(
      (r) => r.stdout.trim(),
      () => "",
    );
    if (/^\d+$/.test(pane)) await host.killTree(Number(pane), { graceMs: 0 });
    await tmux("kill-server").catch(() => {});
    await host.remove(host.taskDir).catch(() => {});
    await host.disconnect();
  };
  try {
    const home = join(host.workdir, "home");
    const config = parseAgentConfig(claudeCode.configSchema, {
      permissionMode: "bypassPermissions",
      agentVersion: claude.version,
      installStrategies: ["npm-registry"],
      installDir: binDir,
      ...configInput,
    });
    await claudeCode.plant(
      { host, hook: null, workdir: host.workdir, home, signal: new AbortController().signal },
      config,
    );
    await mkdir(join(home, ".local", "bin"), { recursive: true });
    await symlink(claude.binaryPath, join(home, ".local", "bin", "claude"));
    for (const [name, text] of Object.entries(files)) await writeFile(join(host.workdir, name), text);
    const launch = {
      workdir: host.workdir,
      home,
      binaryPath: join(binDir, "claude"),
      continueConversation: false,
      asRoot,
      ...(firstMessage !== undefined && { firstMessage }),
    };
    const command = claudeCode.command(config, launch);
    const env = {
      HOME: home,
      TERM: "xterm-256color",
      PATH: [...command.pathPrepend, process.env.PATH].join(":"),
      ...command.env,
      ...config.env,
    };
    const line = `cd ${shellQuote(host.workdir)} && exec env ${envAssignments(env).join(" ")} ${shellCommand(command.argv)}`;
    const startedAt = performance.now();
    await tmux("-f", "/dev/null", "new-session", "-d", "-s", "floor", "-x", "200", "-y", "50", line);
    return { tmux, workdir: host.workdir, startedAt, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
