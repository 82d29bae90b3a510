import { spawn } from "node:child_process";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentAdapter } from "../spec/agent-adapter.js";
import type { AgentTaskConfig } from "../spec/config.js";
import type { HookContext } from "../spec/hook-context.js";
import { FileStateStore } from "../store/file-state-store.js";
import { createAgentTask } from "../task/agent-task.js";
import { runTask } from "../task/run-task.js";
import type { TaskEvent } from "../spec/task-context.js";
import { createScriptedAdapter } from "../testing/scripted-adapter.js";
import { defaultKickoffPrompt, defaultResumePrompt } from "./kickoff.js";

const worker = fileURLToPath(new URL("./test-fixtures/resume-worker.mjs", import.meta.url));
let root: string;
let stateDir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "optio-resume-"));
  stateDir = join(root, "state");
  process.env.OPTIO_SCRIPTED_TASK_ROOT = join(root, "tasks");
});

afterAll(async () => {
  delete process.env.OPTIO_SCRIPTED_TASK_ROOT;
  await rm(root, { recursive: true, force: true });
});

function aesGcm(key: Buffer) {
  return {
    sessionBlobEncrypt(data: Uint8Array) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const body = Buffer.concat([cipher.update(data), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]);
    },
    sessionBlobDecrypt(data: Uint8Array) {
      const buf = Buffer.from(data);
      const decipher = createDecipheriv("aes-256-gcm", key, buf.subarray(0, 12));
      decipher.setAuthTag(buf.subarray(12, 28));
      return Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]);
    },
  };
}

/** Runs the worker process; `onLine` may signal it. Resolves with its exit code and parsed lines. */
function runWorker(args: string[], onLine?: (line: Record<string, unknown>, child: ReturnType<typeof spawn>) => void) {
  return new Promise<{ code: number | null; lines: Array<Record<string, unknown>> }>((resolve, reject) => {
    const child = spawn(process.execPath, [worker, ...args], {
      env: process.env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const lines: Array<Record<string, unknown>> = [];
    createInterface({ input: child.stdout! }).on("line", (text) => {
      const line = JSON.parse(text) as Record<string, unknown>;
      lines.push(line);
      onLine?.(line, child);
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, lines }));
  });
}

let n = 0;
async function session(
  config: Record<string, unknown>,
  options: {
    resume?: boolean;
    processId?: string;
    control?: (e: TaskEvent, cancel: () => void) => void;
    adapter?: AgentAdapter<AgentTaskConfig>;
  } = {},
) {
  const processId = options.processId ?? `resume-${++n}`;
  const store = new FileStateStore({ dir: stateDir });
  const task = createAgentTask(options.adapter ?? createScriptedAdapter(), { processId, name: "t", config });
  const events: TaskEvent[] = [];
  const run = runTask(task, {
    store,
    resume: options.resume,
    onEvent: (e) => {
      events.push(e);
      options.control?.(e, run.cancel);
    },
  });
  return { outcome: await run.outcome, events, store, processId };
}

const argsOf = (events: TaskEvent[]) => progressMessages(events).find((m) => m.startsWith("args:")) ?? "";

const progressMessages = (events: TaskEvent[]) =>
  events.flatMap((e) => (e.type === "progress" && e.message ? [e.message] : []));

describe("resume", () => {
  it("continues a cancelled session in a new process with its workdir and private state", async () => {
    const processId = "across-processes";
    const first = await runWorker(["start", stateDir, processId, "slow"], (line, child) => {
      if (line.type === "progress" && line.message === "tick 1") child.kill("SIGINT");
    });
    expect(first.code).toBe(130);
    expect(first.lines).toContainEqual({ type: "saved-state" });
    // The last progress line says the snapshot is done, not that it is under way.
    expect(first.lines.filter((l) => l.type === "progress").at(-1)).toEqual({
      type: "progress",
      percent: null,
      message: "Snapshot saved",
    });
    const snapshot = await new FileStateStore({ dir: stateDir }).latestSnapshot(processId);
    expect(snapshot).toMatchObject({ processId, endState: "cancelled" });

    const second = await runWorker(["resume", stateDir, processId, "happy"]);
    expect(second.code).toBe(0);
    const restored = second.lines.find((l) => l.type === "restored");
    expect(restored?.notes).toBe("kept across processes\n");
    expect(String(restored?.conversation)).toMatch(/^turn \d+\n$/);
    expect(second.lines).toContainEqual({
      type: "progress",
      percent: null,
      message: "continuing the earlier conversation",
    });
  });

  it("tells a resumed session that continues its conversation it was interrupted, never the kickoff again; without a transcript nothing", async () => {
    const config = { consumerInstructions: "count to three", env: { OPTIO_SCENARIO: "happy", OPTIO_ECHO_ARGS: "1" } };
    const first = await session(config);
    expect(first.outcome.status).toBe("done");
    expect(argsOf(first.events)).toContain(defaultKickoffPrompt("AGENTS.md"));
    const second = await session(config, { resume: true, processId: first.processId });
    expect(second.outcome.status).toBe("done");
    expect(argsOf(second.events)).toBe(`args: --continue --message ${defaultResumePrompt("AGENTS.md")}`);
    const scripted = createScriptedAdapter();
    const noTranscript: AgentAdapter<AgentTaskConfig> = {
      ...scripted,
      resume: { ...scripted.resume, canContinue: async () => false },
    };
    const third = await session(config, { resume: true, processId: first.processId, adapter: noTranscript });
    expect(third.outcome.status).toBe("done");
    expect(argsOf(third.events)).toBe("args:");
  });

  it("runs the adapter's prepare on a fresh and on a resumed start, after the restore, so what it makes under a regenerable path is there", async () => {
    const scripted = createScriptedAdapter();
    const calls: string[] = [];
    const preparing: AgentAdapter<AgentTaskConfig> = {
      ...scripted,
      async prepare(ctx) {
        const start = (await ctx.host.stat(posix.join(ctx.home, ".scripted/conversation"))) ? "restored" : "fresh";
        const scratch = (await ctx.host.stat(posix.join(ctx.home, ".cache/scratch"))) ? "scratch there" : "no scratch";
        calls.push(`${start}, ${scratch}`);
        await ctx.host.mkdir(posix.join(ctx.home, ".cache/scratch"), { mode: 0o700 });
      },
    };
    const config = { env: { OPTIO_SCENARIO: "happy" } };
    const first = await session(config, { adapter: preparing });
    expect(first.outcome.status).toBe("done");
    const second = await session(config, { adapter: preparing, resume: true, processId: first.processId });
    expect(second.outcome.status).toBe("done");
    // The second prepare ran after the restore (the conversation is back), which left the regenerable .cache out.
    expect(calls).toEqual(["fresh, no scratch", "restored, no scratch"]);
  });

  it("keeps the previous snapshot when the worker is killed between the two blob writes", async () => {
    const processId = "killed-mid-capture";
    const store = new FileStateStore({ dir: stateDir });
    const first = await runWorker(["start", stateDir, processId, "happy"]);
    expect(first.code).toBe(0);
    const previous = await store.latestSnapshot(processId);
    expect(previous).not.toBeNull();

    const killed = await runWorker(["die-mid-capture", stateDir, processId, "happy"]);
    expect(killed.code).toBeNull();
    expect(killed.lines.find((l) => l.type === "restored")?.notes).toBe("kept across processes\n");
    expect(killed.lines).not.toContainEqual({ type: "saved-state" });
    // The private blob was complete and the workdir blob half-written when the process died: no record points at either.
    expect((await store.listSnapshots(processId)).map((r) => r.id)).toEqual([previous!.id]);
    const blobs = join(stateDir, "blobs");
    expect((await readdir(blobs)).some((name) => name.startsWith(".tmp-"))).toBe(true);

    const again = await runWorker(["resume", stateDir, processId, "happy"]);
    expect(again.code).toBe(0);
    expect(again.lines.find((l) => l.type === "restored")?.notes).toBe("kept across processes\n");
    // The dead writer's temp file was swept by the next write to the blob directory.
    expect((await readdir(blobs)).filter((name) => name.startsWith(".tmp-"))).toEqual([]);
  });

  it("asks the adapter whether to continue only once its install is done", async () => {
    // opencode answers by running its own binary, which the install links into the restored home.
    const scripted = createScriptedAdapter();
    let installDone = false;
    const asked: boolean[] = [];
    const adapter: AgentAdapter<AgentTaskConfig> = {
      ...scripted,
      async install(ctx, config) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        const installed = await scripted.install(ctx, config);
        installDone = true;
        return installed;
      },
      resume: {
        ...scripted.resume,
        async canContinue(ctx) {
          asked.push(installDone);
          return scripted.resume.canContinue(ctx);
        },
      },
    };
    const first = await session({ env: { OPTIO_SCENARIO: "happy" } }, { adapter });
    expect(first.outcome.status).toBe("done");
    installDone = false;
    const second = await session(
      { env: { OPTIO_SCENARIO: "happy" } },
      { adapter, resume: true, processId: first.processId },
    );
    expect(second.outcome.status).toBe("done");
    expect(asked).toEqual([true]);
  });

  it("leaves no snapshot when cancelled before the agent was launched", async () => {
    const { outcome, store, processId } = await session(
      { env: { OPTIO_SCENARIO: "happy" } },
      { control: (e, cancel) => e.type === "progress" && cancel() },
    );
    expect(outcome.status).toBe("cancelled");
    expect(await store.latestSnapshot(processId)).toBeNull();
  });

  it("rewrites refreshed instructions and records it in resume.log", async () => {
    const first = await session({ consumerInstructions: "first version", env: { OPTIO_SCENARIO: "happy" } });
    expect(first.outcome.status).toBe("done");
    let resumeLog = "";
    let instructions = "";
    const second = await session(
      {
        consumerInstructions: "first version",
        env: { OPTIO_SCENARIO: "happy" },
        onResumeRefresh: (config: Record<string, unknown>) => ({ ...config, consumerInstructions: "second version" }),
        beforeExecute: async (hook: HookContext) => {
          resumeLog = await hook.readTextFromHost("resume.log");
          instructions = await hook.readTextFromHost("AGENTS.md");
        },
      },
      { resume: true, processId: first.processId },
    );
    expect(second.outcome.status).toBe("done");
    const lines = resumeLog.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\dT\S+Z REFRESHED:AGENTS\.md$/);
    expect(instructions).toContain("second version");
  });

  it("fails, never starting fresh, when the private state cannot be decrypted", async () => {
    const first = await session({ env: { OPTIO_SCENARIO: "happy" }, ...aesGcm(randomBytes(32)) });
    expect(first.outcome.status).toBe("done");
    const snapshot = await first.store.latestSnapshot(first.processId);
    expect(snapshot?.encrypted).toBe(true);
    const privateBlob = await readFile(join(stateDir, "blobs", snapshot!.privateBlobId));
    expect(privateBlob.length).toBeGreaterThan(28);
    expect(privateBlob.includes(Buffer.from("planted"))).toBe(false);
    const second = await session(
      { env: { OPTIO_SCENARIO: "happy" }, ...aesGcm(randomBytes(32)) },
      { resume: true, processId: first.processId },
    );
    expect(second.outcome.status).toBe("failed");
    expect(progressMessages(second.events)).not.toContain("reading the instructions");
  });

  it("starts fresh when a resume is asked for but there is no snapshot", async () => {
    const { outcome, events } = await session({ env: { OPTIO_SCENARIO: "happy" } }, { resume: true });
    expect(outcome.status).toBe("done");
    expect(progressMessages(events)).not.toContain("continuing the earlier conversation");
  });

  it("ignores seedId on resume with a warning", async () => {
    const first = await session({ env: { OPTIO_SCENARIO: "happy" } });
    const second = await session(
      { env: { OPTIO_SCENARIO: "happy" }, seedId: "anything" },
      { resume: true, processId: first.processId },
    );
    expect(second.outcome.status).toBe("done");
    expect(second.events.some((e) => e.type === "report" && e.level === "warn" && e.message.includes("seedId"))).toBe(
      true,
    );
  });

  it("saves a seed from a fresh session and merges it into a new one", async () => {
    let seedId = "";
    const first = await session({
      env: { OPTIO_SCENARIO: "happy" },
      supportsResume: false,
      beforeExecute: (hook: HookContext) => hook.host.writeText("home/.scripted/planted", "from the seed\n"),
      onSeedSaved: (id: string) => {
        seedId = id;
      },
    });
    expect(first.outcome.status).toBe("done");
    expect(seedId).not.toBe("");
    let planted = "";
    let transcript: string | null = "";
    const second = await session({
      env: { OPTIO_SCENARIO: "happy" },
      supportsResume: false,
      seedId,
      beforeExecute: async (hook: HookContext) => {
        planted = await hook.readTextFromHost("home/.scripted/planted");
        transcript = (await hook.host.stat("home/.scripted/conversation")) ? "present" : null;
      },
    });
    expect(second.outcome.status).toBe("done");
    expect(planted).toBe("from the seed\n");
    expect(transcript).toBeNull();
  });

  it("fails a fresh start from an unknown seed", async () => {
    const { outcome } = await session({ env: { OPTIO_SCENARIO: "happy" }, seedId: "no-such-seed" });
    expect(outcome.status).toBe("failed");
  });

  it("stops an agent left running by a crashed worker before starting again", async () => {
    const processId = "survivor";
    const crashed = await runWorker(["start", stateDir, processId, "slow"], (line, child) => {
      if (line.type === "progress" && line.message === "tick 1") child.kill("SIGKILL");
    });
    expect(crashed.code).toBeNull();
    const { outcome, events } = await session({ env: { OPTIO_SCENARIO: "happy" } }, { processId });
    expect(outcome.status).toBe("done");
    expect(events.some((e) => e.type === "report" && e.message.includes("earlier worker"))).toBe(true);
  });
});
