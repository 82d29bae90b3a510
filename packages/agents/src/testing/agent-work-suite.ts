import { execFile } from "node:child_process";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { TestSshd } from "@optio/host/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentAdapter } from "../spec/agent-adapter.js";
import type { AgentTaskConfig } from "../spec/config.js";
import { defaultKickoffPrompt, defaultResumePrompt } from "../session/kickoff.js";
import { FileStateStore } from "../store/file-state-store.js";
import { createAgentTask } from "../task/agent-task.js";
import { runTask } from "../task/run-task.js";
import type { TaskEvent, TaskOutcome } from "../spec/task-context.js";
import type { UsageTotals } from "../spec/usage.js";
import { realBinaryFixture } from "./real-binary-fixture.js";
import { guardRealDirs, type RealDirsGuard, type RealDirsGuardOptions } from "./real-dirs-guard.js";
import {
  isConversationRequest,
  type RecordedRequest,
  type ScriptedModel,
  type ScriptedTurn,
} from "./scripted-model.js";

export interface AgentWorkSuiteOptions {
  /** The config fields that install (or reuse) the pinned real binary in `installDir`. */
  installConfig(installDir: string): Record<string, unknown>;
  /** Config fields the agent needs to work unattended (claude: its permission mode). */
  unattendedConfig?: Record<string, unknown>;
  /** The agent's shell tool, as its model calls it (claude: `Bash`, opencode: `bash`, Codex: `exec_command`). */
  shellTool: string;
  /** The shell tool's input for a command; default `{ command, description }` (claude, opencode). */
  shellInput?(command: string, description: string): Record<string, unknown>;
  /** The variable the agent reads its API key from; default `ANTHROPIC_API_KEY`. */
  apiKeyEnv?: string;
  /** More variables for the agent, in the task config and as the CLI's `--env` (a proxy that keeps its other traffic local). */
  env?: Record<string, string>;
  /** Text the agent's screen shows once it takes typed input. */
  promptOnScreen: string;
  /** The adapter's built CLI (`dist/cli.js`) and the flags it needs besides the common ones. */
  cli: { path: string; flags?: readonly string[] };
  /** The real user's agent dirs, which must stay untouched. */
  realDirs: RealDirsGuardOptions;
  /** Starts the SSH host every scenario also runs on. */
  ssh: () => Promise<TestSshd>;
  /** Adapter-specific checks on a fresh session's recorded requests. */
  checkRequests?(requests: readonly RecordedRequest[]): void;
}

const API_KEY = "sk-ant-scripted-test-key-0123456789abcdef";
const INSTRUCTIONS = "Write a three-line poem about tmux into deliverables/poem.txt.";
const POEM = "tmux keeps the panes\nthe agent writes while we sleep\nDONE lands in the log\n";
const SUMMARY = "wrote a poem about tmux";
const RESUMED_SUMMARY = "finished after the interruption";

/** The scripted work: the deliverable with its protocol lines, then DONE, then a closing word. */
function scriptedWork(
  shellTool: string,
  shellInput: AgentWorkSuiteOptions["shellInput"] = (command, description) => ({ command, description }),
): {
  write: ScriptedTurn;
  done: ScriptedTurn;
  close: ScriptedTurn;
  finishResumed: ScriptedTurn;
} {
  const shell = (command: string, description: string): ScriptedTurn["toolCalls"] => [
    { name: shellTool, input: shellInput(command, description) },
  ];
  const poem = POEM.replaceAll("\n", "\\n");
  return {
    write: {
      text: "Writing the poem.",
      toolCalls: shell(
        `mkdir -p deliverables && printf '${poem}' > deliverables/poem.txt && echo 'STATUS: 50% poem written' >> optio.log && echo 'DELIVERABLE: deliverables/poem.txt' >> optio.log`,
        "Write the poem",
      ),
      usage: { inputTokens: 900, outputTokens: 60 },
    },
    done: {
      toolCalls: shell(`echo 'DONE: ${SUMMARY}' >> optio.log`, "Report done"),
      usage: { inputTokens: 700, outputTokens: 40, cacheReadInputTokens: 300, cacheCreationInputTokens: 20 },
    },
    close: { text: "The poem is in deliverables/poem.txt." },
    finishResumed: {
      toolCalls: shell(
        `echo 'DELIVERABLE: deliverables/poem.txt' >> optio.log && echo 'DONE: ${RESUMED_SUMMARY}' >> optio.log`,
        "Report",
      ),
      usage: { inputTokens: 1500, outputTokens: 25, cacheReadInputTokens: 800 },
    },
  };
}

/** The usage totals the scripted turns add up to (the scripted model's defaults where a turn names none). */
function scriptedTotals(...turns: ScriptedTurn[]): Omit<UsageTotals, "byModel"> {
  const sum = (pick: (turn: ScriptedTurn) => number) => turns.reduce((total, turn) => total + pick(turn), 0);
  return {
    turns: turns.length,
    inputTokens: sum((t) => t.usage?.inputTokens ?? 10),
    outputTokens: sum((t) => t.usage?.outputTokens ?? 10),
    cacheReadTokens: sum((t) => t.usage?.cacheReadInputTokens ?? 0),
    cacheWriteTokens: sum((t) => t.usage?.cacheCreationInputTokens ?? 0),
  };
}

/**
 * The usage a run reported: its last `usage` event's totals match the
 * outcome's, which are the scripted numbers exactly; an adapter without a
 * usage source reports none.
 */
function expectUsage(
  adapter: AgentAdapter,
  events: readonly unknown[],
  outcome: TaskOutcome,
  expected: Omit<UsageTotals, "byModel">,
): void {
  const reports = events.filter((e): e is Extract<TaskEvent, { type: "usage" }> => (e as TaskEvent).type === "usage");
  if (!adapter.usage) {
    expect(reports).toEqual([]);
    expect(outcome.usage).toBeUndefined();
    return;
  }
  expect(outcome.usage, JSON.stringify(reports)).toMatchObject(expected);
  expect(reports.at(-1)?.total).toEqual(outcome.usage);
  expect(Object.values(outcome.usage!.byModel).reduce((n, model) => n + model.turns, 0)).toBe(expected.turns);
}

/** A request's messages (the Messages API's `messages`, the Responses API's `input`) as one text, however their content is shaped. */
export function messagesText(request: RecordedRequest): string {
  const body = request.body as { messages?: unknown; input?: unknown } | undefined;
  return JSON.stringify(body?.messages ?? body?.input ?? []);
}

/** The key a request carries, as the Messages API (`x-api-key`) or the Responses API (a bearer token) sends it. */
function apiKeyOf(request: RecordedRequest): string | undefined {
  const key = request.headers["x-api-key"];
  return typeof key === "string" ? key : request.headers.authorization?.replace(/^Bearer /, "");
}

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(path: string, args: readonly string[], cwd: string, stateDir: string): Promise<CliResult> {
  return new Promise((resolve) => {
    // Out of time, the CLI is stopped as Ctrl-C stops it: it cancels the task and stops its agent, leaving nothing running.
    const child = execFile(
      process.execPath,
      [path, ...args],
      { cwd, env: { ...process.env, OPTIO_STATE_DIR: stateDir }, timeout: 420_000, killSignal: "SIGINT" },
      (error, stdout, stderr) => resolve({ code: error ? (child.exitCode ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The outcome line the CLI prints last with `--json`. */
function cliOutcome(result: CliResult): unknown {
  return JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "null");
}

/**
 * The real agent doing a scripted task by itself against the scripted model,
 * locally and over SSH: kicked off from its instructions, resumed in a new
 * process (the adapter's CLI) after a cancel, waiting for a person with
 * `autoStart: false`, and run from the CLI. Call it from the adapter's
 * real-binary test file; the binary is installed once into a temp dir.
 */
export function agentWorkSuite<C extends AgentTaskConfig>(
  adapter: AgentAdapter<C>,
  options: AgentWorkSuiteOptions,
): void {
  const kickoff = defaultKickoffPrompt(adapter.instructionsFile);
  const resumeNotice = defaultResumePrompt(adapter.instructionsFile);
  const work = scriptedWork(options.shellTool, options.shellInput);
  const keyEnv = options.apiKeyEnv ?? "ANTHROPIC_API_KEY";
  const fx = realBinaryFixture("work", adapter.id, options.ssh);
  const own = {} as { stateDir: string; guard: RealDirsGuard };
  beforeAll(async () => {
    own.stateDir = join(fx.root, "state");
    own.guard = await guardRealDirs(options.realDirs);
  });
  afterAll(async () => {
    await own.guard?.release();
  });

  const scriptedModel = (turns: readonly ScriptedTurn[], holdAfterLastTurn = false): Promise<ScriptedModel> =>
    fx.startModel({ turns, holdAfterLastTurn });

  for (const kind of ["local", "ssh"] as const) {
    const remote = kind === "ssh";

    function config(url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
      return {
        ...options.installConfig(fx.installDir),
        ...options.unattendedConfig,
        consumerInstructions: INSTRUCTIONS,
        apiBaseUrl: url,
        env: { ...options.env, [keyEnv]: API_KEY },
        supportsResume: false,
        ...(remote && { ssh: fx.sshd.sshConfig({ readyTimeoutMs: 60_000 }) }),
        ...extra,
      };
    }

    function start(
      processId: string,
      url: string,
      extra: Record<string, unknown> = {},
      onEvent?: (event: TaskEvent) => void,
    ) {
      const task = createAgentTask(adapter, { processId, name: "poem", config: config(url, extra) });
      return {
        task,
        run: runTask(task, { store: new FileStateStore({ dir: own.stateDir }), ...(onEvent && { onEvent }) }),
      };
    }

    /** The adapter's CLI with the endpoint, the key and, over SSH, the test host's flags. */
    async function cli(
      processId: string,
      url: string,
      ...extra: string[]
    ): Promise<{ result: CliResult; cwd: string }> {
      const cwd = join(fx.root, `cli-${processId}`);
      await mkdir(cwd, { recursive: true });
      const ssh = remote
        ? [
            "--ssh",
            `${fx.sshd.username}@127.0.0.1:${fx.sshd.port}`,
            "--identity",
            fx.sshd.identityFile,
            "--known-hosts",
            fx.sshd.knownHostsFile,
          ]
        : [];
      const args = [
        ...extra,
        "--process-id",
        processId,
        "--json",
        "--api-base-url",
        url,
        ...Object.entries({ ...options.env, [keyEnv]: API_KEY }).flatMap(([name, value]) => [
          "--env",
          `${name}=${value}`,
        ]),
        "--install-dir",
        fx.installDir,
      ];
      return {
        result: await runCli(
          options.cli.path,
          ["run", INSTRUCTIONS, ...args, ...ssh, ...(options.cli.flags ?? [])],
          cwd,
          own.stateDir,
        ),
        cwd,
      };
    }

    describe(`the real ${adapter.displayName} does a task by itself (${kind})`, () => {
      it("is kicked off, works through the scripted tool calls and ends done with its deliverable and the turns' usage", {
        timeout: 600_000,
      }, async () => {
        // Nothing answers past DONE's turn: the agent's records end with the scripted turns whenever it is stopped.
        const m = await scriptedModel([work.write, work.done], true);
        const delivered: Array<[string, string]> = [];
        const events: TaskEvent[] = [];
        const { run } = start(
          `work-${kind}`,
          m.url,
          { onDeliverable: (_ctx: unknown, path: string, text: string) => void delivered.push([path, text]) },
          (e) => void events.push(e),
        );
        const outcome = await run.outcome;
        expect(outcome, JSON.stringify(events.slice(-8))).toMatchObject({ status: "done", summary: SUMMARY });
        expectUsage(adapter, events, outcome, scriptedTotals(work.write, work.done));
        expect(delivered).toEqual([["poem.txt", POEM]]);
        expect(events).toContainEqual({ type: "progress", percent: 50, message: "poem written" });
        expect(events).toContainEqual({
          type: "progress",
          percent: null,
          message: `${adapter.displayName} is working…`,
        });
        const conversation = m.requests.filter(isConversationRequest);
        expect(m.turnsUsed).toBeGreaterThanOrEqual(2);
        // The first request carries the kickoff and the key; the next one the shell tool's result.
        expect(messagesText(conversation[0]!)).toContain(kickoff);
        expect(apiKeyOf(conversation[0]!)).toBe(API_KEY);
        expect(messagesText(conversation[1]!)).toMatch(/"(tool_result|function_call_output)"/);
        options.checkRequests?.(m.requests);
      });

      it("autoStart false: waits for a person (no model request within 5 s of its prompt showing), then sendText starts the work", {
        timeout: 600_000,
      }, async () => {
        const m = await scriptedModel([work.write, work.done, work.close]);
        let waiting!: () => void;
        const launched = new Promise<void>((resolve) => (waiting = resolve));
        const { task, run } = start(`work-manual-${kind}`, m.url, { autoStart: false }, (e) => {
          if (e.type === "progress" && e.message === `${adapter.displayName} is waiting for input`) waiting();
        });
        await launched;
        await until(
          async () => (await task.readScreen().catch(() => "")).includes(options.promptOnScreen),
          `${adapter.displayName}'s prompt`,
        );
        await expect(m.waitForRequest(isConversationRequest, 5_000)).rejects.toThrow(/no matching request/);
        await task.sendText(`${kickoff}`, { submit: true });
        expect(await run.outcome).toMatchObject({ status: "done", summary: SUMMARY });
        expect(messagesText(m.requests.find(isConversationRequest)!)).toContain(kickoff);
      });

      it("cancelled after its first turn, is resumed by the CLI's --resume in a new process and continues its transcript and usage to done", {
        timeout: 600_000,
      }, async () => {
        const processId = `work-resume-${kind}`;
        const first = await scriptedModel([work.write], true);
        const events: TaskEvent[] = [];
        const { run } = start(processId, first.url, { supportsResume: true }, (e) => void events.push(e));
        // The request after the first turn carries the tool's result: the turn is done and in the transcript.
        await first.waitForRequest((r) => isConversationRequest(r) && r.turn === null, 180_000);
        run.cancel();
        const cancelled = await run.outcome;
        expect(cancelled).toMatchObject({ status: "cancelled" });
        expectUsage(adapter, events, cancelled, scriptedTotals(work.write));

        const second = await scriptedModel([work.finishResumed], true);
        const { result, cwd } = await cli(processId, second.url, "--resume");
        expect(result.code, result.stderr).toBe(0);
        expect(cliOutcome(result)).toMatchObject({
          type: "outcome",
          outcome: { status: "done", summary: RESUMED_SUMMARY },
        });
        // The resumed session reads the conversation from its start: its totals continue the first session's.
        const lines = result.stdout
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as TaskEvent);
        expectUsage(
          adapter,
          lines,
          (cliOutcome(result) as { outcome: TaskOutcome }).outcome,
          scriptedTotals(work.write, work.finishResumed),
        );
        // For the person at the terminal (stderr beside --json): one line with the sum.
        if (adapter.usage)
          expect(result.stderr).toMatch(
            /^Usage: 2\.4k in \/ 85 out · 800 cache read \/ 0 cache write( · \$\d+\.\d\d)? \(2 turns; .+\)$/m,
          );
        expect(await readFile(join(cwd, "deliverables", processId, "poem.txt"), "utf8")).toBe(POEM);
        // The resumed session's first request carries the earlier turn and the resume notice; the kickoff only once, from the first session.
        const resumed = messagesText(second.requests.find(isConversationRequest)!);
        expect(resumed).toContain("Writing the poem.");
        expect(resumed).toContain(JSON.stringify(resumeNotice).slice(1, -1));
        expect(resumed.split(kickoff)).toHaveLength(2);
      });

      it("runs from the CLI with --api-base-url: exits 0 with the deliverable saved", {
        timeout: 600_000,
      }, async () => {
        const processId = `work-cli-${kind}`;
        const m = await scriptedModel([work.write, work.done, work.close]);
        const { result, cwd } = await cli(processId, m.url);
        expect(result.code, result.stderr).toBe(0);
        expect(cliOutcome(result)).toMatchObject({ type: "outcome", outcome: { status: "done", summary: SUMMARY } });
        // --json carries the agent's state as its hooks reported it, from starting to exited.
        const events = result.stdout
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as { type: string; state?: string });
        const states = events.flatMap((e) => (e.type === "agent-state" ? [e.state] : []));
        expect(states[0]).toBe("starting");
        // Without a state source the task reports only starting and exited.
        if (adapter.agentState) expect(states).toContain("working");
        else expect(states).toEqual(["starting", "exited"]);
        expect(states.at(-1)).toBe("exited");
        expect(await readFile(join(cwd, "deliverables", processId, "poem.txt"), "utf8")).toBe(POEM);
        expect(messagesText(m.requests.find(isConversationRequest)!)).toContain(kickoff);
      });
    });
  }

  describe(`the real ${adapter.displayName}'s own dirs`, () => {
    it("are untouched: every task kept the agent's state in its own HOME", async () => {
      expect(await own.guard.changes()).toEqual([]);
    });
  });
}

async function until(probe: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
