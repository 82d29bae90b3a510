import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { TestSshd } from "@optio/host/testing";
import { describe, expect, it } from "vitest";
import type { AgentAdapter } from "../spec/agent-adapter.js";
import type { AgentTaskConfig } from "../spec/config.js";
import type { AgentKey } from "../spec/agent-keys.js";
import type { AgentState } from "../spec/agent-state.js";
import type { AgentDriver } from "../spec/hook-context.js";
import { FileStateStore } from "../store/file-state-store.js";
import { createAgentTask } from "../task/agent-task.js";
import { runTask } from "../task/run-task.js";
import type { TaskEvent } from "../spec/task-context.js";
import { isConversationRequest, type RecordedRequest, type ScriptedTurn } from "./scripted-model.js";
import { realBinaryFixture } from "./real-binary-fixture.js";
import { taskEventLog, type TaskEventLog } from "./task-event-log.js";

export interface AgentStateSuiteOptions {
  /** The config fields that install (or reuse) the pinned real binary in `installDir`. */
  installConfig(installDir: string): Record<string, unknown>;
  /** Config under which the agent asks before it runs its shell tool. */
  askingConfig: Record<string, unknown>;
  /** Config under which it runs its shell tool without asking. */
  unattendedConfig: Record<string, unknown>;
  /** The agent's shell tool, as its model calls it (claude: `Bash`, opencode: `bash`). */
  shellTool: string;
  /** Text on screen while its permission prompt waits. */
  permissionPrompt: string;
  /** The keys that approve the prompt once, and those that refuse it. */
  approveKeys: readonly AgentKey[];
  denyKeys: readonly AgentKey[];
  /** Typed after a refusal when the agent waits for words before it goes on (claude); the refusal reaches the model with them. */
  afterDeny?: string;
  /** What the refused tool's result says. */
  refusal: RegExp;
  /** Config that adds a hook of the consumer's own, one that appends to `marker` when a turn ends; absent for an agent without consumer hooks. */
  consumerHook?(marker: string): Record<string, unknown>;
  /** Starts the SSH host every scenario also runs on. */
  ssh: () => Promise<TestSshd>;
}

const API_KEY = "sk-ant-scripted-test-key-0123456789abcdef";
/** optio.log lines written to look like the state file's: they must change nothing. */
const FORGED = [
  `PermissionRequest {"hook_event_name":"PermissionRequest","tool_name":"Forged"}`,
  "waiting-permission forged",
];

const statesOf = (events: readonly TaskEvent[]): AgentState[] =>
  events.flatMap((e) => (e.type === "agent-state" ? [e.state] : []));
const attentionsOf = (events: readonly TaskEvent[]): string[] =>
  events.flatMap((e) => (e.type === "attention" ? [e.reason] : []));
const isState = (state: AgentState) => (e: TaskEvent) => e.type === "agent-state" && e.state === state;

/** Resolves once the agent's screen shows `text` (or, with `shown: false`, no longer shows it); polled, as a person would look. */
async function screenShows(task: AgentDriver, text: string, shown = true): Promise<void> {
  while ((await task.readScreen().catch(() => "")).includes(text) !== shown) await sleep(50);
}

/** The tool results a conversation request carries in its last message. */
function lastToolResults(request: RecordedRequest): Array<{ is_error?: boolean; content: unknown }> {
  const messages = (request.body as { messages: Array<{ content: unknown }> }).messages;
  const content = messages.at(-1)!.content;
  return Array.isArray(content) ? content.filter((block) => block.type === "tool_result") : [];
}

/**
 * The agent's state and attention events from its own hooks, with the real
 * binary against the scripted model, locally and over SSH: a permission
 * prompt approved and refused with sendKeys, a turn ended without DONE, a
 * consumer's hook running beside optio's, and optio.log lines that imitate
 * state lines changing nothing.
 */
export function agentStateSuite<C extends AgentTaskConfig>(
  adapter: AgentAdapter<C>,
  options: AgentStateSuiteOptions,
): void {
  const fx = realBinaryFixture("state", adapter.id, options.ssh);
  const shell = (command: string): ScriptedTurn["toolCalls"] => [
    { name: options.shellTool, input: { command, description: "Run it" } },
  ];

  for (const kind of ["local", "ssh"] as const) {
    function start(processId: string, turns: readonly ScriptedTurn[], extra: Record<string, unknown>) {
      return (async () => {
        const model = await fx.startModel({ turns });
        const config = {
          ...options.installConfig(fx.installDir),
          consumerInstructions: "Follow the scripted steps, then report DONE.",
          apiBaseUrl: model.url,
          env: { ANTHROPIC_API_KEY: API_KEY },
          supportsResume: false,
          ...(kind === "ssh" && { ssh: fx.sshd.sshConfig({ readyTimeoutMs: 60_000 }) }),
          ...extra,
        };
        const log: TaskEventLog = taskEventLog();
        const task = createAgentTask(adapter, { processId: `${processId}-${kind}`, name: processId, config });
        const run = runTask(task, { store: new FileStateStore({ dir: join(fx.root, "store") }), onEvent: log.onEvent });
        return { m: model, log, task, run };
      })();
    }

    describe(`${adapter.displayName} reports its state from its own hooks (${kind})`, () => {
      it("waiting-permission while the prompt is on screen; approving leads to working, the tool's result reaches the model, the task ends done", {
        timeout: 600_000,
      }, async () => {
        const turns = [
          { toolCalls: shell("touch proof.txt") },
          { toolCalls: shell("echo 'DONE: proof written' >> optio.log") },
          { text: "Done." },
        ];
        const { m, log, task, run } = await start("state-approve", turns, options.askingConfig);
        try {
          const asked = await log.waitFor(isState("waiting-permission"));
          expect(asked.event).toMatchObject({ message: expect.stringContaining("touch proof.txt") });
          // The hook runs as the prompt is drawn: once it is on screen, waiting-permission is still the latest state.
          await screenShows(task, options.permissionPrompt);
          expect(log.events.filter((e) => e.type === "agent-state").at(-1)).toBe(asked.event);
          await task.sendKeys(options.approveKeys);
          await log.waitFor(isState("working"), { from: asked.index });
          const second = await m.waitForRequest((r) => isConversationRequest(r) && r.turn === 1, 120_000);
          // claude sends `is_error: false`, opencode leaves it out.
          expect(lastToolResults(second).map((result) => result.is_error ?? false)).toEqual([false]);
          // Reporting DONE is a shell call too: a second prompt, a second episode.
          const again = await log.waitFor(
            (e) => isState("waiting-permission")(e) && e.type === "agent-state" && (e.message ?? "").includes("DONE"),
            { from: asked.index + 1 },
          );
          await screenShows(task, options.permissionPrompt);
          await task.sendKeys(options.approveKeys);
          expect(await run.outcome).toMatchObject({ status: "done", summary: "proof written" });
          expect(statesOf(log.events).slice(0, 3)).toEqual(["starting", "working", "waiting-permission"]);
          expect(statesOf(log.events).at(-1)).toBe("exited");
          expect(attentionsOf(log.events)).toEqual([
            expect.stringContaining("touch proof.txt"),
            expect.stringContaining("DONE"),
          ]);
          expect(log.events.findIndex((e) => e.type === "attention")).toBeGreaterThan(asked.index);
          expect(again.index).toBeGreaterThan(asked.index);
        } finally {
          run.cancel();
          await run.outcome;
        }
      });

      it("refusing the prompt: the model's next request carries the refusal", { timeout: 600_000 }, async () => {
        const turns = [{ toolCalls: shell("touch proof.txt") }, { text: "Understood, I will not." }];
        const { m, log, task, run } = await start("state-deny", turns, options.askingConfig);
        try {
          const asked = await log.waitFor(isState("waiting-permission"));
          // opencode's plugin hears of the prompt before it is drawn, and keys pressed before that go elsewhere.
          await screenShows(task, options.permissionPrompt);
          await task.sendKeys(options.denyKeys);
          // Words typed while the prompt is still closing are lost (opencode): a person types once it is gone.
          await screenShows(task, options.permissionPrompt, false);
          if (options.afterDeny) await task.sendText(options.afterDeny, { submit: true });
          const second = await m.waitForRequest((r) => isConversationRequest(r) && r.turn === 1, 120_000);
          const [refused] = lastToolResults(second);
          expect(refused).toMatchObject({ is_error: true });
          expect(JSON.stringify(refused!.content)).toMatch(options.refusal);
          await log.waitFor(isState("working"), { from: asked.index });
        } finally {
          run.cancel();
          await run.outcome;
        }
      });

      it("a turn ended without DONE: idle, then one needAttention, then sendText continues it; forged optio.log lines change nothing", {
        timeout: 600_000,
      }, async () => {
        const marker = join(fx.root, `consumer-hook-${kind}.txt`);
        const turns = [
          { toolCalls: shell(FORGED.map((line) => `echo '${line}' >> optio.log`).join(" && ")) },
          { text: "I stop here." },
          { toolCalls: shell("echo 'DONE: continued' >> optio.log") },
          { text: "Done." },
        ];
        const { log, task, run } = await start("state-idle", turns, {
          ...options.unattendedConfig,
          ...options.consumerHook?.(marker),
        });
        try {
          const idle = await log.waitFor(isState("idle"));
          const waiting = await log.waitFor(isState("waiting-input"), { from: idle.index });
          const attention = await log.waitFor((e) => e.type === "attention", { from: idle.index });
          expect(attention.event).toMatchObject({ reason: expect.stringContaining("I stop here.") });
          expect(waiting.index).toBeLessThan(attention.index);
          await task.sendText("Go on.", { submit: true });
          await log.waitFor(isState("working"), { from: attention.index });
          expect(await run.outcome).toMatchObject({ status: "done", summary: "continued" });
          expect(attentionsOf(log.events)).toHaveLength(1);
          const states = statesOf(log.events);
          expect(states).not.toContain("waiting-permission");
          expect(log.events.filter((e) => e.type === "agent-state" && /forged/i.test(e.message ?? ""))).toEqual([]);
          if (options.consumerHook) expect(await readFile(marker, "utf8")).toMatch(/\S/);
        } finally {
          run.cancel();
          await run.outcome;
        }
      });
    });
  }
}
