import { homedir, tmpdir } from "node:os";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { FileStateStore, runTask, type AgentTask } from "@optio/agents";
import {
  isConversationRequest,
  startScriptedModel,
  type RecordedRequest,
  type ScriptedModel,
} from "@optio/agents/testing";
import { startTestSshd, type TestSshd } from "@optio/host/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createClaudeCodeTask } from "./claude-code-task.js";
import { REAL_CLAUDE_VERSION } from "./test-context.js";

// The real claude asking before it runs a tool, answered through task.sendKeys: `1` approves, Escape refuses.

const PROMPT = "Do you want to proceed?";
const TURNS = [
  {
    text: "Touching the proof.",
    toolCalls: [{ name: "Bash", input: { command: "touch proof.txt", description: "Write the proof" } }],
  },
  {
    toolCalls: [
      { name: "Bash", input: { command: "echo 'DONE: proof written' >> optio.log", description: "Report done" } },
    ],
  },
  { text: "Done." },
];

let root: string;
let sshd: TestSshd;
let model: ScriptedModel | undefined;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "optio-cc-permission-"));
  sshd = await startTestSshd();
});
afterEach(async () => {
  await model?.close();
  model = undefined;
});
afterAll(async () => {
  await sshd?.stop();
  await rm(root, { recursive: true, force: true });
});

/** Resolves once claude shows its permission menu; polled on a timer, as a person would see it. */
async function permissionMenu(task: AgentTask): Promise<string> {
  for (;;) {
    const screen = await task.readScreen().catch(() => "");
    if (screen.includes(PROMPT)) return screen;
    await sleep(100);
  }
}

/** The tool results a conversation request carries in its last message. */
function lastToolResults(request: RecordedRequest): Array<{ is_error?: boolean; content: unknown }> {
  const messages = (request.body as { messages: Array<{ content: unknown }> }).messages;
  const content = messages.at(-1)!.content;
  return Array.isArray(content) ? content.filter((block) => block.type === "tool_result") : [];
}

function startTask(kind: "local" | "ssh", url: string) {
  const task = createClaudeCodeTask({
    processId: `permission-${kind}-${Date.now()}`,
    name: "permission",
    config: {
      installDir: join(root, "bin"),
      installStrategies: ["npm-registry"],
      agentVersion: REAL_CLAUDE_VERSION,
      installCacheDir: join(homedir(), ".cache/optio/claude"),
      permissionMode: "default",
      consumerInstructions: "Create proof.txt, then report DONE.",
      apiBaseUrl: url,
      env: { ANTHROPIC_API_KEY: "sk-ant-scripted-test-key-0123456789abcdef" },
      supportsResume: false,
      ...(kind === "ssh" ? { ssh: sshd.sshConfig({ readyTimeoutMs: 60_000 }) } : {}),
    },
  });
  return { task, run: runTask(task, { store: new FileStateStore({ dir: join(root, `store-${kind}`) }) }) };
}

for (const kind of ["local", "ssh"] as const) {
  describe(`answering claude's permission menu with sendKeys (${kind})`, () => {
    it("approves with 1: the tool runs, its result reaches the model and the task ends done", {
      timeout: 600_000,
    }, async () => {
      model = await startScriptedModel({ turns: TURNS });
      const { task, run } = startTask(kind, model.url);
      try {
        expect(await permissionMenu(task)).toContain("touch proof.txt");
        await task.sendKeys(["1"]);
        const second = await model.waitForRequest((r) => isConversationRequest(r) && r.turn === 1, 120_000);
        expect(lastToolResults(second)).toMatchObject([{ is_error: false }]);
        expect(await permissionMenu(task)).toContain("DONE: proof written");
        await task.sendKeys(["Enter"]);
        expect(await run.outcome).toMatchObject({ status: "done", summary: "proof written" });
      } finally {
        run.cancel();
        await run.outcome;
      }
    });

    it("refuses with Escape: the tool does not run and the next request carries the refusal", {
      timeout: 600_000,
    }, async () => {
      model = await startScriptedModel({ turns: TURNS });
      const { task, run } = startTask(kind, model.url);
      try {
        await permissionMenu(task);
        await task.sendKeys(["Escape"]);
        // claude stops its turn and asks what to do instead; what is typed next goes with the refusal.
        await task.sendText("Do not create it; just report done.", { submit: true });
        const second = await model.waitForRequest((r) => isConversationRequest(r) && r.turn === 1, 120_000);
        const [refusal] = lastToolResults(second);
        expect(refusal).toMatchObject({ is_error: true });
        expect(JSON.stringify(refusal!.content)).toMatch(/doesn't want to (proceed|take this action)/);
        expect(JSON.stringify(second.body)).toContain("Do not create it; just report done.");
      } finally {
        run.cancel();
        await run.outcome;
      }
    });
  });
}
