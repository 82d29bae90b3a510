import { homedir } from "node:os";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStateStore, runTask, type TaskEvent } from "@optio/agents";
import { guardRealDirs, isConversationRequest, startScriptedModel, type RealDirsGuard, type ScriptedModel, type ScriptedTurn } from "@optio/agents/testing";
import { startTestSshd, type TestSshd } from "@optio/host/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { OpenCodeTaskConfigInput } from "./config.js";
import { createOpenCodeTask } from "./open-code-task.js";
import { REAL_OPENCODE_DIRS, REAL_OPENCODE_VERSION } from "./test-context.js";

// The real opencode doing a task by itself against a scripted model on 127.0.0.1: nobody types.

const KICKOFF = "Read AGENTS.md and carry out the task it describes";
const API_KEY = "sk-ant-scripted-test-key-0123456789abcdef";
const POEM = "tmux keeps the panes\\nthe agent writes while we sleep\\nDONE lands in the log\\n";

/** Two turns of work through opencode's bash tool: the deliverable with its protocol lines, then DONE. */
const WORK: ScriptedTurn[] = [
  {
    text: "Writing the poem.",
    toolCalls: [
      {
        name: "bash",
        input: {
          command: `mkdir -p deliverables && printf '${POEM}' > deliverables/poem.txt && echo 'STATUS: 50% poem written' >> optio.log && echo 'DELIVERABLE: deliverables/poem.txt' >> optio.log`,
          description: "Write the poem",
        },
      },
    ],
  },
  { toolCalls: [{ name: "bash", input: { command: "echo 'DONE: wrote a poem about tmux' >> optio.log", description: "Report done" } }] },
  { text: "The poem is in deliverables/poem.txt." },
];

let root: string;
let guard: RealDirsGuard;
let sshd: TestSshd;
let model: ScriptedModel | undefined;
const ROOT_VARS = ["OPTIO_OPENCODE_TASK_ROOT", "OPTIO_OPENCODE_REMOTE_TASK_ROOT"] as const;
let savedRoots: (string | undefined)[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "optio-oc-work-"));
  // The default task roots are opencode's own dirs (~/.local/share/opencode, /tmp/opencode): keep tasks in the temp root.
  savedRoots = ROOT_VARS.map((name) => process.env[name]);
  process.env.OPTIO_OPENCODE_TASK_ROOT = join(root, "tasks");
  process.env.OPTIO_OPENCODE_REMOTE_TASK_ROOT = join(root, "remote-tasks");
  guard = await guardRealDirs(REAL_OPENCODE_DIRS);
  sshd = await startTestSshd();
});
afterEach(async () => {
  await model?.close();
  model = undefined;
});
afterAll(async () => {
  await sshd?.stop();
  await guard?.release();
  ROOT_VARS.forEach((name, i) => {
    const saved = savedRoots[i];
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  });
  await rm(root, { recursive: true, force: true });
});

function configFor(url: string, extra: OpenCodeTaskConfigInput = {}): OpenCodeTaskConfigInput {
  return {
    opencodeInstallDir: join(root, "bin"),
    installStrategies: ["npm-registry"],
    opencodeVersion: REAL_OPENCODE_VERSION,
    opencodeCacheDir: join(homedir(), ".cache/optio/opencode"),
    consumerInstructions: "Write a three-line poem about tmux into deliverables/poem.txt.",
    apiBaseUrl: url,
    env: { ANTHROPIC_API_KEY: API_KEY },
    supportsResume: false,
    ...extra,
  };
}

function textOf(content: unknown): string {
  return typeof content === "string" ? content : JSON.stringify(content);
}

for (const kind of ["local", "ssh"] as const) {
  describe(`the real opencode does a task by itself (${kind})`, () => {
    it("is kicked off, works through the scripted tool calls and ends done with its deliverable", { timeout: 600_000 }, async () => {
      model = await startScriptedModel({ turns: WORK });
      const delivered: Array<[string, string]> = [];
      const task = createOpenCodeTask({
        processId: `oc-work-${kind}`,
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
      const conversation = model.requests.filter(isConversationRequest);
      expect(model.turnsUsed).toBeGreaterThanOrEqual(2);
      expect(conversation[0]!.path).toBe("/v1/messages");
      expect(conversation[0]!.headers["x-api-key"]).toBe(API_KEY);
      expect(textOf((conversation[0]!.body as { messages: unknown[] }).messages)).toContain(KICKOFF);
      expect(textOf((conversation[1]!.body as { messages: unknown[] }).messages)).toContain("tool_result");
      // Nothing but the model API: no registry or models.dev traffic was routed here, and none could leave.
      expect(model.requests.every((r) => r.path.startsWith("/v1/messages"))).toBe(true);
    });
  });
}

describe("the real opencode with autoStart off", () => {
  it("makes no model request until task.sendText gives it one", { timeout: 600_000 }, async () => {
    model = await startScriptedModel({ turns: WORK });
    const task = createOpenCodeTask({ processId: "oc-work-manual", name: "poem", config: configFor(model.url, { autoStart: false }) });
    let waiting!: () => void;
    const launched = new Promise<void>((resolve) => (waiting = resolve));
    const run = runTask(task, {
      store: new FileStateStore({ dir: join(root, "store-manual") }),
      onEvent: (e) => e.type === "progress" && e.message === "opencode is waiting for input" && waiting(),
    });
    await launched;
    await expect(model.waitForRequest(isConversationRequest, 5_000)).rejects.toThrow(/no matching request/);
    await until(async () => (await task.readScreen().catch(() => "")).includes("Ask anything"), "opencode's prompt");
    await task.sendText(`${KICKOFF}.`, { submit: true });
    const outcome = await run.outcome;
    expect(outcome).toEqual({ status: "done", summary: "wrote a poem about tmux" });
    expect(textOf((model.requests.find(isConversationRequest)!.body as { messages: unknown[] }).messages)).toContain(KICKOFF);
  });

  it("left the real opencode dirs untouched and created none", async () => {
    expect(await guard.changes()).toEqual([]);
  });
});

async function until(probe: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
