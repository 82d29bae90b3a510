import { execFile } from "node:child_process";
import { homedir } from "node:os";
import { fileURLToPath } from "node:url";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStateStore, runTask, type TaskEvent } from "@optio/agents";
import { guardRealDirs, isConversationRequest, startScriptedModel, type RealDirsGuard, type ScriptedModel, type ScriptedTurn } from "@optio/agents/testing";
import { startTestSshd, type TestSshd } from "@optio/host/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createClaudeCodeTask } from "./claude-code-task.js";
import type { ClaudeCodeTaskConfigInput } from "./config.js";
import { REAL_CLAUDE_DIRS, REAL_CLAUDE_VERSION } from "./test-context.js";

// The real claude doing a task by itself against a scripted model on 127.0.0.1: nobody types.

const KICKOFF = "Read CLAUDE.md and carry out the task it describes";
const API_KEY = "sk-ant-scripted-test-key-0123456789abcdef";
const POEM = "tmux keeps the panes\\nthe agent writes while we sleep\\nDONE lands in the log\\n";

/** Two turns of work through claude's Bash tool: the deliverable with its protocol lines, then DONE. */
const WORK: ScriptedTurn[] = [
  {
    text: "Writing the poem.",
    toolCalls: [
      {
        name: "Bash",
        input: {
          command: `mkdir -p deliverables && printf '${POEM}' > deliverables/poem.txt && echo 'STATUS: 50% poem written' >> optio.log && echo 'DELIVERABLE: deliverables/poem.txt' >> optio.log`,
          description: "Write the poem",
        },
      },
    ],
    usage: { inputTokens: 900, outputTokens: 60 },
  },
  { toolCalls: [{ name: "Bash", input: { command: "echo 'DONE: wrote a poem about tmux' >> optio.log", description: "Report done" } }] },
  { text: "The poem is in deliverables/poem.txt." },
];

let root: string;
let guard: RealDirsGuard;
let sshd: TestSshd;
let model: ScriptedModel | undefined;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "optio-cc-work-"));
  guard = await guardRealDirs(REAL_CLAUDE_DIRS);
  sshd = await startTestSshd();
});
afterEach(async () => {
  await model?.close();
  model = undefined;
});
afterAll(async () => {
  await sshd?.stop();
  await guard?.release();
  await rm(root, { recursive: true, force: true });
});

function configFor(url: string, extra: ClaudeCodeTaskConfigInput = {}): ClaudeCodeTaskConfigInput {
  return {
    claudeInstallDir: join(root, "bin"),
    installStrategies: ["npm-registry"],
    claudeVersion: REAL_CLAUDE_VERSION,
    // The same machine: over SSH too the cache the first install filled is reused instead of a 200 MB copy.
    claudeCacheDir: join(homedir(), ".cache/optio/claude"),
    permissionMode: "bypassPermissions",
    consumerInstructions: "Write a three-line poem about tmux into deliverables/poem.txt.",
    apiBaseUrl: url,
    env: { ANTHROPIC_API_KEY: API_KEY },
    supportsResume: false,
    ...extra,
  };
}

/** The text of a Messages API message's content, however it is shaped. */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  return JSON.stringify(content);
}

for (const kind of ["local", "ssh"] as const) {
  describe(`the real claude does a task by itself (${kind})`, () => {
    it("is kicked off, works through the scripted tool calls and ends done with its deliverable", { timeout: 600_000 }, async () => {
      model = await startScriptedModel({ turns: WORK });
      const delivered: Array<[string, string]> = [];
      const task = createClaudeCodeTask({
        processId: `work-${kind}`,
        name: "poem",
        config: {
          ...configFor(model.url, kind === "ssh" ? { ssh: sshd.sshConfig({ readyTimeoutMs: 60_000 }) } : {}),
          onDeliverable: (_ctx: unknown, path: string, text: string) => void delivered.push([path, text]),
        },
      });
      const events: TaskEvent[] = [];
      const run = runTask(task, { store: new FileStateStore({ dir: join(root, `store-${kind}`) }), onEvent: (e) => void events.push(e) });
      const outcome = await run.outcome;
      expect(outcome, JSON.stringify(events.slice(-8))).toEqual({ status: "done", summary: "wrote a poem about tmux" });
      expect(delivered).toEqual([["poem.txt", POEM.replaceAll("\\n", "\n")]]);
      expect(events).toContainEqual({ type: "progress", percent: 50, message: "poem written" });
      expect(events).toContainEqual({ type: "progress", percent: null, message: "Claude Code is working…" });
      const conversation = model.requests.filter(isConversationRequest);
      expect(model.turnsUsed).toBeGreaterThanOrEqual(2);
      // The first request carries the kickoff; the next one the Bash tool's result.
      expect(textOf((conversation[0]!.body as { messages: unknown[] }).messages)).toContain(KICKOFF);
      expect(conversation[0]!.headers["x-api-key"]).toBe(API_KEY);
      expect(textOf((conversation[1]!.body as { messages: unknown[] }).messages)).toContain("tool_result");
    });
  });
}

async function until(probe: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

describe("the real claude waits for a person, and resumes (local)", () => {
  it("autoStart false: no model request within 5 s, then sendText starts the work", { timeout: 600_000 }, async () => {
    model = await startScriptedModel({ turns: WORK });
    const task = createClaudeCodeTask({ processId: "work-manual", name: "poem", config: configFor(model.url, { autoStart: false }) });
    let waiting!: () => void;
    const launched = new Promise<void>((resolve) => (waiting = resolve));
    const run = runTask(task, {
      store: new FileStateStore({ dir: join(root, "store-manual") }),
      onEvent: (e) => e.type === "progress" && e.message === "Claude Code is waiting for input" && waiting(),
    });
    await launched;
    await expect(model.waitForRequest(isConversationRequest, 5_000)).rejects.toThrow(/no matching request/);
    await until(async () => (await task.readScreen().catch(() => "")).includes("bypass permissions on"), "claude's prompt");
    await task.sendText(`${KICKOFF}.`, { submit: true });
    expect(await run.outcome).toEqual({ status: "done", summary: "wrote a poem about tmux" });
    expect(JSON.stringify(model.requests.find(isConversationRequest)!.body)).toContain(KICKOFF);
  });

  it("a task cancelled after its first turn is resumed by `optio-claudecode run --resume` in a new process and continues its transcript to done", { timeout: 600_000 }, async () => {
    const processId = "work-resume";
    const stateDir = join(root, "store-resume");
    model = await startScriptedModel({ turns: [WORK[0]!] });
    const first = createClaudeCodeTask({ processId, name: "poem", config: configFor(model.url, { supportsResume: true }) });
    const run = runTask(first, { store: new FileStateStore({ dir: stateDir }) });
    // The request after the first turn carries the tool's result: the turn is done and in the transcript.
    await model.waitForRequest((r) => isConversationRequest(r) && r.turn === null, 120_000);
    run.cancel();
    expect(await run.outcome).toEqual({ status: "cancelled" });
    await model.close();

    model = await startScriptedModel({
      turns: [{ toolCalls: [{ name: "Bash", input: { command: "echo 'DELIVERABLE: deliverables/poem.txt' >> optio.log && echo 'DONE: finished after the interruption' >> optio.log", description: "Report" } }] }],
    });
    const cwd = join(root, "cli-cwd");
    await mkdir(cwd, { recursive: true });
    const args = [CLI, "run", configFor("").consumerInstructions as string, "--resume", "--process-id", processId, "--json", "--api-base-url", model.url];
    args.push("--env", `ANTHROPIC_API_KEY=${API_KEY}`, "--permission-mode", "bypassPermissions", "--install-dir", join(root, "bin"));
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, args, { cwd, env: { ...process.env, OPTIO_STATE_DIR: stateDir }, timeout: 300_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? (child.exitCode ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim().split("\n").at(-1)!)).toMatchObject({ type: "outcome", outcome: { status: "done", summary: "finished after the interruption" } });
    expect(await readFile(join(cwd, "deliverables", processId, "poem.txt"), "utf8")).toBe(POEM.replaceAll("\\n", "\n"));
    // The resumed session's first request carries the earlier turn and the resume notice; the kickoff only once, from the first session.
    const resumed = JSON.stringify(model.requests.find(isConversationRequest)!.body);
    expect(resumed).toContain("Writing the poem.");
    expect(resumed).toContain("You were interrupted.");
    expect(resumed.split(KICKOFF)).toHaveLength(2);
  });

  it("kept all of claude's state in the tasks' HOMEs; the real ~/.claude is untouched", async () => {
    expect(await guard.changes()).toEqual([]);
  });
});
