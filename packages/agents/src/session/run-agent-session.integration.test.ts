import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UnsafeProcessIdError } from "@optio/host";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentAdapter } from "../spec/agent-adapter.js";
import type { AgentTaskConfig } from "../spec/config.js";
import { FileStateStore } from "../store/file-state-store.js";
import { AgentNotRunningError } from "./create-hook-context.js";
import { createAgentTask } from "../task/agent-task.js";
import { runTask } from "../task/run-task.js";
import type { TaskEvent, TaskOutcome } from "../spec/task-context.js";
import { createScriptedAdapter } from "../testing/scripted-adapter.js";

let root: string;
let store: FileStateStore;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "optio-session-"));
  process.env.OPTIO_SCRIPTED_TASK_ROOT = join(root, "tasks");
  store = new FileStateStore({ dir: join(root, "state") });
});

afterAll(async () => {
  delete process.env.OPTIO_SCRIPTED_TASK_ROOT;
  await rm(root, { recursive: true, force: true });
});

/** The scripted adapter, but the agent is the given sh script (run in the workdir). */
function scriptAdapter(script: string): AgentAdapter<AgentTaskConfig> {
  return { ...createScriptedAdapter(), command: () => ({ argv: ["/bin/sh", "-c", script], env: {} }) };
}

let counter = 0;
async function run(
  script: string,
  config: Record<string, unknown> = {},
): Promise<{ outcome: TaskOutcome; events: TaskEvent[] }> {
  counter += 1;
  const task = createAgentTask(scriptAdapter(script), {
    processId: `session-${counter}`,
    name: "t",
    config: { supportsResume: false, ...config },
  });
  const events: TaskEvent[] = [];
  const outcome = await runTask(task, { store, onEvent: (e) => events.push(e) }).outcome;
  return { outcome, events };
}

const messages = (events: TaskEvent[]) =>
  events.flatMap((e) => (e.type === "progress" && e.message !== undefined ? [e.message] : []));
const reports = (events: TaskEvent[]) => events.flatMap((e) => (e.type === "report" ? [e.message] : []));

describe("runAgentSession with hostile agents", () => {
  it("fails a session whose wrapper dies without a word, keeping what the agent reported", async () => {
    // kill -9 of the wrapper (the agent's parent): no exit line reaches the log, only the pane's death tells.
    const { outcome, events } = await run("echo 'STATUS: 10% started' >> optio.log; kill -9 $PPID; sleep 1");
    expect(outcome.status).toBe("failed");
    expect(outcome.status === "failed" && outcome.message).toMatch(
      /^the agent exited.* without reporting DONE or ERROR/,
    );
    expect(events).toContainEqual({ type: "progress", percent: 10, message: "started" });
  });

  it("cuts a 50 MB log line as it arrives, reports it once and still acts on the DONE after it", async () => {
    const { outcome, events } = await run(
      "head -c 52428800 /dev/zero | tr '\\0' a >> optio.log; echo >> optio.log; echo 'DONE: big' >> optio.log",
    );
    expect(outcome).toEqual({ status: "done", summary: "big" });
    expect(messages(events).some((m) => m.startsWith("aaa"))).toBe(false);
    expect(
      reports(events).filter((m) => /^optio\.log: a line over 1048576 bytes was cut and dropped: a+…$/.test(m)),
    ).toHaveLength(1);
  });

  it("fails the session when optio.log is replaced by a link to /dev/zero, without reading it", async () => {
    const { outcome } = await run("rm -f optio.log; ln -s /dev/zero optio.log; sleep 30");
    expect(outcome.status).toBe("failed");
    expect(outcome.status === "failed" && outcome.message).toMatch(/optio\.log: it is a symbolic link/);
  });

  it("turns invalid UTF-8 into replacement characters", async () => {
    const { outcome, events } = await run("printf 'STATUS: caf\\351 ok\\n' >> optio.log; echo DONE >> optio.log");
    expect(outcome.status).toBe("done");
    expect(messages(events)).toContain("caf\uFFFD ok");
  });

  it("accepts CRLF line endings", async () => {
    const { outcome, events } = await run("printf 'STATUS: 50%% crlf\\r\\nDONE: ok\\r\\n' >> optio.log");
    expect(outcome).toEqual({ status: "done", summary: "ok" });
    expect(events).toContainEqual({ type: "progress", percent: 50, message: "crlf" });
  });

  it("keeps a last line written without its newline at exit", async () => {
    const { outcome, events } = await run("printf 'STATUS: 20%% no newline' >> optio.log");
    expect(outcome.status).toBe("done");
    expect(events).toContainEqual({ type: "progress", percent: 20, message: "no newline" });
  });

  it("loses none of 10,000 STATUS lines written at once, in order", async () => {
    const { outcome, events } = await run(
      "awk 'BEGIN { for (i = 1; i <= 10000; i++) print \"STATUS: line \" i }' >> optio.log; echo DONE >> optio.log",
    );
    expect(outcome.status).toBe("done");
    const lines = messages(events).filter((m) => m.startsWith("line "));
    expect(lines).toHaveLength(10_000);
    expect(lines.every((m, i) => m === `line ${i + 1}`)).toBe(true);
  });

  it("delivers only deliverables that stay under deliverables/", async () => {
    const got: string[] = [];
    const script = [
      "mkdir -p deliverables",
      "echo fine > deliverables/ok.txt",
      "ln -s /etc/passwd deliverables/out-link",
      "echo gone > deliverables/gone.txt",
      "echo 'DELIVERABLE: ../x' >> optio.log",
      "echo 'DELIVERABLE: /etc/passwd' >> optio.log",
      "echo 'DELIVERABLE: deliverables/out-link' >> optio.log",
      "rm deliverables/gone.txt",
      "echo 'DELIVERABLE: deliverables/gone.txt' >> optio.log",
      "echo 'DELIVERABLE: deliverables/ok.txt' >> optio.log",
      "echo DONE >> optio.log",
    ].join("; ");
    const { outcome, events } = await run(script, {
      onDeliverable: (_ctx: unknown, path: string, text: string) => void got.push(`${path}=${text}`),
    });
    expect(outcome.status).toBe("done");
    expect(got).toEqual(["ok.txt=fine\n"]);
    const warned = reports(events).join("\n");
    for (const bad of ["../x", "/etc/passwd", "out-link", "gone.txt"]) expect(warned).toContain(bad);
  });

  it("reports DOMAIN_MESSAGE with bad JSON and passes good ones on", async () => {
    const { outcome, events } = await run(
      "echo 'DOMAIN_MESSAGE: pr {oops' >> optio.log; echo 'DOMAIN_MESSAGE: pr {\"n\": 1}' >> optio.log; echo DONE >> optio.log",
    );
    expect(outcome.status).toBe("done");
    expect(events).toContainEqual({ type: "domain", keyword: "pr", data: { n: 1 } });
    expect(events.filter((e) => e.type === "domain")).toHaveLength(1);
    expect(reports(events).some((m) => m.includes("DOMAIN_MESSAGE"))).toBe(true);
  });

  it("never opens a javascript: URL and strips quotes from a real one", async () => {
    const { outcome, events } = await run(
      "echo 'BROWSER: javascript:alert(1)' >> optio.log; echo \"BROWSER: 'https://example.test/a b'\" >> optio.log; echo DONE >> optio.log",
    );
    expect(outcome.status).toBe("done");
    expect(events.filter((e) => e.type === "browser")).toEqual([{ type: "browser", url: "https://example.test/a b" }]);
    expect(reports(events).some((m) => m.includes("BROWSER"))).toBe(true);
  });

  it("refuses a processId with shell metacharacters", () => {
    expect(() => createAgentTask(createScriptedAdapter(), { processId: "x; rm -rf /", name: "t", config: {} })).toThrow(
      UnsafeProcessIdError,
    );
  });

  it("hands env values with quotes, newlines and spaces to the agent intact", async () => {
    const weird = "a 'b' \"c\"\n$d `e` \\f";
    const { outcome, events } = await run(
      "printf 'STATUS: %s\\n' \"$(printf %s \"$WEIRD\" | od -An -tx1 | tr -d ' \\n')\" >> optio.log; echo DONE >> optio.log",
      { env: { WEIRD: weird } },
    );
    expect(outcome.status).toBe("done");
    expect(messages(events)).toContain(Buffer.from(weird).toString("hex"));
  });

  it("keeps inherited credential variables from the agent unless the config sets them", async () => {
    process.env.FOO_API_KEY = "leaked";
    process.env.ANTHROPIC_BASE_URL = "leaked";
    try {
      const { events } = await run(
        'echo "STATUS: foo=${FOO_API_KEY:-unset} anthropic=${ANTHROPIC_BASE_URL:-unset} bar=${BAR_API_KEY:-unset}" >> optio.log; echo DONE >> optio.log',
        {
          env: { BAR_API_KEY: "given" },
        },
      );
      expect(messages(events)).toContain("foo=unset anthropic=unset bar=given");
    } finally {
      delete process.env.FOO_API_KEY;
      delete process.env.ANTHROPIC_BASE_URL;
    }
  });

  it("runs beforeExecute after planting and before the agent starts", async () => {
    const seen: string[] = [];
    const { outcome } = await run("echo 'STATUS: agent ran' >> optio.log; echo DONE >> optio.log", {
      beforeExecute: async (hook: { readTextFromHost(p: string): Promise<string> }) => {
        seen.push(await hook.readTextFromHost("home/.scripted/planted"));
        seen.push(`log=${JSON.stringify(await hook.readTextFromHost("optio.log"))}`);
      },
    });
    expect(outcome.status).toBe("done");
    expect(seen).toEqual(["planted\n", 'log=""']);
  });

  it("runs afterExecute on success and on error", async () => {
    const calls: string[] = [];
    const afterExecute = () => void calls.push("after");
    expect((await run("echo DONE >> optio.log", { afterExecute })).outcome.status).toBe("done");
    expect((await run("echo 'ERROR: nope' >> optio.log", { afterExecute })).outcome.status).toBe("failed");
    expect(calls).toEqual(["after", "after"]);
  });

  it("fails a healthy session whose afterExecute throws, and only reports it on a failed one", async () => {
    const afterExecute = () => {
      throw new Error("cleanup broke");
    };
    const healthy = await run("echo DONE >> optio.log", { afterExecute });
    expect(healthy.outcome).toMatchObject({ status: "failed", message: "afterExecute failed: cleanup broke" });
    const failed = await run("echo 'ERROR: first' >> optio.log", { afterExecute });
    expect(failed.outcome).toMatchObject({ status: "failed", message: "first" });
    expect(reports(failed.events).some((m) => m.includes("cleanup broke"))).toBe(true);
  });

  it("lets afterExecute work on the host after a cancel", async () => {
    counter += 1;
    let hostname = "";
    const task = createAgentTask(createScriptedAdapter(), {
      processId: `session-${counter}`,
      name: "t",
      config: {
        supportsResume: false,
        env: { OPTIO_SCENARIO: "slow" },
        afterExecute: async (hook: { runOnHost(c: string): Promise<{ stdout: string }> }) => {
          hostname = (await hook.runOnHost("echo after-cancel")).stdout.trim();
        },
      },
    });
    const run = runTask(task, {
      store,
      onEvent: (e) => e.type === "progress" && e.message === "tick 1" && run.cancel(),
    });
    expect(await run.outcome).toEqual({ status: "cancelled" });
    expect(hostname).toBe("after-cancel");
  });

  it("counts a DONE written just before a non-zero exit", async () => {
    const { outcome } = await run("echo 'DONE: fast' >> optio.log; exit 5");
    expect(outcome).toEqual({ status: "done", summary: "fast" });
  });

  it("treats a silent exit with code 0 as done", async () => {
    const { outcome } = await run("exit 0");
    expect(outcome.status).toBe("done");
  });

  it("fails a silent non-zero exit with the code and the screen", async () => {
    const { outcome } = await run("echo 'about to fail'; sleep 0.3; exit 9");
    expect(outcome.status).toBe("failed");
    const message = (outcome as { message: string }).message;
    expect(message).toContain("code 9");
    expect(message, message).toContain("about to fail");
  });

  it("lets hooks type into the agent and read its screen", async () => {
    type Driver = { sendText(t: string, o?: { submit?: boolean }): Promise<void>; readScreen(): Promise<string> };
    let hook: Driver | null = null;
    const task = createAgentTask(createScriptedAdapter(), {
      processId: "session-drive",
      name: "t",
      config: {
        supportsResume: false,
        env: { OPTIO_SCENARIO: "interactive" },
        beforeExecute: (h: NonNullable<typeof hook>) => {
          hook = h;
        },
      },
    });
    const run = runTask(task, { store });
    try {
      // The terminal is served before the agent starts: wait for the agent's prompt on its screen.
      let ready = "";
      for (let i = 0; i < 100 && !ready.includes("ready>"); i++) {
        await new Promise((r) => setTimeout(r, 100));
        ready = (await (hook as Driver | null)?.readScreen().catch(() => "")) ?? "";
      }
      expect(ready).toContain("scripted agent ready>");
      const h = hook!;
      await h.sendText("hello there", { submit: true });
      let screen = "";
      for (let i = 0; i < 100 && !screen.includes("you said: hello there"); i++) {
        await new Promise((r) => setTimeout(r, 100));
        screen = await h.readScreen();
      }
      expect(screen).toContain("you said: hello there");
      await h.sendText("quit", { submit: true });
      expect(await run.outcome).toEqual({ status: "done", summary: "asked to quit" });
      await expect(h.readScreen()).rejects.toThrow(/not running/);
    } finally {
      // An interactive agent waits forever: a failed expectation above must not leave it running.
      run.cancel();
      await run.outcome;
    }
  });

  it("delivers 20 concurrent 2 KB texts whole and in call order", async () => {
    const task = createAgentTask(createScriptedAdapter(), {
      processId: "task-concurrent-input",
      name: "t",
      config: { supportsResume: false, env: { OPTIO_SCENARIO: "interactive" } },
    });
    const heard: string[] = [];
    let allHeard!: () => void;
    const done = new Promise<void>((resolve) => (allHeard = resolve));
    const run = runTask(task, {
      store,
      onEvent: (e) => {
        if (e.type === "progress" && e.message?.startsWith("heard ")) heard.push(e.message.slice("heard ".length));
        if (heard.length === 20) allHeard();
      },
    });
    try {
      let screen = "";
      while (!screen.includes("scripted agent ready>")) {
        await new Promise((r) => setTimeout(r, 100));
        screen = await task.readScreen().catch(() => "");
      }
      const texts = Array.from(
        { length: 20 },
        (_, i) => `text${i}-${String.fromCharCode(97 + i).repeat(2048 - `text${i}-`.length)}`,
      );
      await Promise.all(texts.map((text) => task.sendText(text, { submit: true })));
      await done;
      expect(heard).toEqual(texts);
    } finally {
      run.cancel();
      await run.outcome;
    }
  });

  it("lets the task itself type into its running agent and read its screen, and only while it runs", async () => {
    const task = createAgentTask(createScriptedAdapter(), {
      processId: "task-drive",
      name: "t",
      config: { supportsResume: false, env: { OPTIO_SCENARIO: "interactive" } },
    });
    await expect(task.readScreen()).rejects.toSatisfy((e: unknown) => AgentNotRunningError.isInstance(e));
    await expect(task.sendText("too early")).rejects.toSatisfy((e: unknown) => AgentNotRunningError.isInstance(e));
    const run = runTask(task, { store });
    try {
      let screen = "";
      for (let i = 0; i < 100 && !screen.includes("scripted agent ready>"); i++) {
        await new Promise((r) => setTimeout(r, 100));
        screen = await task.readScreen().catch(() => "");
      }
      expect(screen).toContain("scripted agent ready>");
      await task.sendText("from the task", { submit: true });
      for (let i = 0; i < 100 && !screen.includes("you said: from the task"); i++) {
        await new Promise((r) => setTimeout(r, 100));
        screen = await task.readScreen();
      }
      expect(screen).toContain("you said: from the task");
      run.cancel();
      expect(await run.outcome).toEqual({ status: "cancelled" });
      await expect(task.sendText("too late")).rejects.toSatisfy((e: unknown) => AgentNotRunningError.isInstance(e));
    } finally {
      run.cancel();
      await run.outcome;
    }
  });
});
