import { homedir } from "node:os";
import { mkdtemp, rm } from "node:fs/promises";
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
      expect(textOf((conversation[0]!.body as { messages: unknown[] }).messages)).toContain("Read CLAUDE.md and carry out the task it describes");
      expect(conversation[0]!.headers["x-api-key"]).toBe(API_KEY);
      expect(textOf((conversation[1]!.body as { messages: unknown[] }).messages)).toContain("tool_result");
    });
  });
}
