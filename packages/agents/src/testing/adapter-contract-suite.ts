import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OptioConfigError } from "@optio/host";
import type { TestSshd } from "@optio/host/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as z from "zod/mini";
import type { AgentAdapter } from "../spec/agent-adapter.js";
import type { AgentTaskConfig } from "../spec/config.js";
import { defaultKickoffPrompt } from "../session/kickoff.js";
import { taskConsumer } from "../session/run-agent-session.js";
import { FileStateStore } from "../store/file-state-store.js";
import { createAgentTask } from "../task/agent-task.js";
import { runTask } from "../task/run-task.js";
import type { TaskEvent, TaskOutcome } from "../spec/task-context.js";
import { scriptedAgentScript, type ScriptedScenario } from "./scripted-agent.js";

export interface AdapterContractOptions {
  /** The adapter's own config fields that point it at `installDir` (and keep it from installing). */
  makeConfig(placed: { installDir: string }): Record<string, unknown>;
  /** The scripted stand-in is written as `<installDir>/<binaryName>`, answering `--version` with `versionOutput`. */
  placeScriptedAgent: { binaryName: string; versionOutput: string };
  /** Also run every session over SSH, against the sshd this starts. */
  ssh?: () => Promise<TestSshd>;
}

interface Fixture {
  root: string;
  installDir: string;
  store: FileStateStore;
  ssh?: TestSshd;
}

function envKey(adapter: AgentAdapter<AgentTaskConfig>, remote: boolean): string {
  return `${taskConsumer(adapter.id).toUpperCase().replace(/-/g, "_")}_${remote ? "REMOTE_" : ""}TASK_ROOT`;
}

async function processesUsing(path: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(path)) found.push(Number(entry));
  }
  return found;
}

/**
 * The checks every agent adapter must pass, run with the scripted stand-in
 * agent placed where the adapter looks for its binary: locally and, with
 * `ssh`, on a real SSH host. Call it from a test file of the adapter.
 */
export function adapterContractSuite<C extends AgentTaskConfig>(
  adapter: AgentAdapter<C>,
  options: AdapterContractOptions,
): void {
  const generic = adapter as unknown as AgentAdapter<AgentTaskConfig>;

  describe(`${adapter.displayName} adapter contract`, () => {
    it("declares agent-v1 and what it is", () => {
      expect(adapter.specificationVersion).toBe("agent-v1");
      expect(adapter.id).toMatch(/^[a-z0-9-]+$/);
      expect(adapter.displayName.length).toBeGreaterThan(0);
      expect(adapter.instructionsFile).toMatch(/^[^/]/);
      expect(["ignore", "suppress", "redirect"]).toContain(adapter.browser);
    });

    it("keeps its private state under home/", () => {
      expect(adapter.resume.privatePaths.length).toBeGreaterThan(0);
      const paths = [...adapter.resume.privatePaths, ...(adapter.resume.regenerablePaths ?? [])];
      for (const p of paths.map((path) => path.replace(/^!/, ""))) {
        expect(p.startsWith("home/"), p).toBe(true);
        expect(p.split("/")).not.toContain("..");
      }
    });

    it("rejects an unknown config field, naming it", () => {
      expect(() => createAgentTask(adapter, { processId: "p1", name: "x", config: { notAField: 1 } })).toThrowError(
        /notAField/,
      );
      try {
        createAgentTask(adapter, { processId: "p1", name: "x", config: { notAField: 1 } });
      } catch (error) {
        expect(OptioConfigError.isInstance(error)).toBe(true);
      }
    });

    it("rejects a bad env variable name, naming the field", () => {
      expect(() =>
        createAgentTask(adapter, { processId: "p1", name: "x", config: { env: { "BAD NAME": "x" } } }),
      ).toThrowError(/env/);
    });

    it("returns argv with the binary first", () => {
      const config = z.parse(adapter.configSchema, {});
      const command = adapter.command(config, {
        workdir: "/w",
        home: "/w/home",
        binaryPath: "/bin/agent",
        continueConversation: false,
        asRoot: false,
      });
      expect(command.argv[0]).toBe("/bin/agent");
    });

    it("puts a first message into argv, whole, only when the session gives one", () => {
      const config = z.parse(adapter.configSchema, {});
      const base = { workdir: "/w", home: "/w/home", binaryPath: "/bin/agent", asRoot: false };
      const message = 'Read the file and do the task; it\'s "quoted".';
      for (const continueConversation of [false, true]) {
        const takesIt = !continueConversation || adapter.firstMessageOnContinue !== false;
        const argv = adapter.command(config, { ...base, continueConversation, firstMessage: message }).argv;
        if (takesIt) expect(argv).toContain(message);
        else expect(argv.join("\n")).not.toContain(message);
        expect(adapter.command(config, { ...base, continueConversation }).argv.join("\n")).not.toContain(message);
      }
    });
  });

  const kinds: Array<"local" | "ssh"> = options.ssh ? ["local", "ssh"] : ["local"];
  for (const kind of kinds) {
    describe(`${adapter.displayName} sessions (${kind})`, () => {
      const fx = {} as Fixture;
      const saved: Record<string, string | undefined> = {};

      beforeAll(async () => {
        fx.root = await mkdtemp(join(tmpdir(), `optio-contract-${adapter.id}-`));
        fx.installDir = join(fx.root, "bin");
        await rm(fx.installDir, { recursive: true, force: true });
        await import("node:fs/promises").then((fs) => fs.mkdir(fx.installDir, { recursive: true }));
        await writeFile(
          join(fx.installDir, options.placeScriptedAgent.binaryName),
          scriptedAgentScript({ versionOutput: options.placeScriptedAgent.versionOutput }),
          { mode: 0o755 },
        );
        fx.store = new FileStateStore({ dir: join(fx.root, "state") });
        for (const remote of [false, true]) {
          const key = envKey(generic, remote);
          saved[key] = process.env[key];
          process.env[key] = join(fx.root, remote ? "remote-tasks" : "tasks");
        }
        if (kind === "ssh") fx.ssh = await options.ssh!();
      });

      afterAll(async () => {
        await fx.ssh?.stop();
        for (const [key, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[key];
          else process.env[key] = value;
        }
        await rm(fx.root, { recursive: true, force: true });
      });

      async function session(
        scenario: ScriptedScenario,
        extra: Record<string, unknown> = {},
        control?: (events: TaskEvent[], cancel: () => void) => void,
        run: { processId?: string; resume?: boolean } = {},
      ) {
        const processId = run.processId ?? `contract-${scenario}-${Math.random().toString(36).slice(2, 8)}`;
        const config = {
          ...options.makeConfig({ installDir: fx.installDir }),
          consumerInstructions: "Follow the contract.",
          supportsResume: false,
          env: { OPTIO_SCENARIO: scenario },
          ...(fx.ssh ? { ssh: fx.ssh.sshConfig() } : {}),
          ...extra,
        };
        const task = createAgentTask(adapter, { processId, name: scenario, config });
        const events: TaskEvent[] = [];
        const running = runTask(task, {
          store: fx.store,
          resume: run.resume,
          onEvent: (e) => {
            events.push(e);
            control?.(events, running.cancel);
          },
        });
        const outcome: TaskOutcome = await running.outcome;
        return { outcome, events, processId };
      }

      it("happy: done with its summary and progress", async () => {
        const { outcome, events } = await session("happy");
        expect(outcome).toEqual({ status: "done", summary: "scripted work finished" });
        const progress = events.filter((e) => e.type === "progress" && e.percent !== null);
        expect(progress.map((e) => (e as { percent: number }).percent)).toEqual([10, 60, 100]);
        expect(events.some((e) => e.type === "widget" && e.widget?.url.startsWith("http://127.0.0.1:"))).toBe(true);
      });

      it("writes the instructions file with the consumer's instructions", async () => {
        let text = "";
        const { outcome } = await session("happy", {
          beforeExecute: async (hook: { readTextFromHost(p: string): Promise<string> }) => {
            text = await hook.readTextFromHost(adapter.instructionsFile);
          },
        });
        expect(outcome.status).toBe("done");
        expect(text).toContain("Follow the contract.");
        expect(text).toContain("optio.log");
      });

      it("kicks off a fresh session with instructions: the agent starts with the kickoff", async () => {
        const kickoff = defaultKickoffPrompt(adapter.instructionsFile);
        const { outcome, events } = await session("happy", { env: { OPTIO_SCENARIO: "happy", OPTIO_ECHO_ARGS: "1" } });
        expect(outcome.status).toBe("done");
        const args = events.find((e) => e.type === "progress" && e.message?.startsWith("args:"));
        expect(args && args.type === "progress" && args.message).toContain(kickoff);
        expect(events).toContainEqual({
          type: "progress",
          percent: null,
          message: `${adapter.displayName} is working…`,
        });
      });

      it("autoStart false: the agent starts without a first message, waiting for a person", async () => {
        const { outcome, events } = await session("happy", {
          autoStart: false,
          env: { OPTIO_SCENARIO: "happy", OPTIO_ECHO_ARGS: "1" },
        });
        expect(outcome.status).toBe("done");
        const args = events.find((e) => e.type === "progress" && e.message?.startsWith("args:"));
        expect(args).toBeDefined();
        expect(args && args.type === "progress" && args.message).not.toContain(
          defaultKickoffPrompt(adapter.instructionsFile),
        );
        expect(events).toContainEqual({
          type: "progress",
          percent: null,
          message: `${adapter.displayName} is waiting for input`,
        });
      });

      it("deliverable: onDeliverable gets its path and text", async () => {
        const got: Array<[string, string]> = [];
        const { outcome } = await session("deliverable", {
          onDeliverable: (_ctx: unknown, path: string, text: string) => void got.push([path, text]),
        });
        expect(outcome.status).toBe("done");
        expect(got).toEqual([["report.md", "# Report\n\nAll good.\n"]]);
      });

      it("error: failed with the agent's message", async () => {
        const { outcome } = await session("error");
        expect(outcome).toMatchObject({ status: "failed", message: "the scripted agent failed on purpose" });
      });

      it("crash: failed with the exit code and the screen's last lines", async () => {
        const { outcome } = await session("crash");
        expect(outcome.status).toBe("failed");
        expect((outcome as { message: string }).message).toContain("code 3");
        expect((outcome as { message: string }).message).toContain("something went badly wrong");
      });

      it("save, restore, continue: what the agent left (a cache, an absolute link) never breaks the resume", async () => {
        const regenerable = adapter.resume.regenerablePaths?.[0];
        const link = `${adapter.resume.privatePaths[0]}/optio-contract-link`;
        const env = {
          OPTIO_SCENARIO: "leave-state",
          OPTIO_LEFT_CACHE: `${regenerable ?? "home/.optio-contract"}/optio-contract-cache`,
          OPTIO_LEFT_LINK: link,
        };
        const processId = `contract-round-trip-${Math.random().toString(36).slice(2, 8)}`;
        const first = await session("leave-state", { supportsResume: true, env }, undefined, { processId });
        expect(first.outcome).toEqual({ status: "done", summary: "turn 1, cache absent" });
        const warned = first.events
          .filter((e) => e.type === "report" && e.level === "warn")
          .map((e) => (e as { message: string }).message);
        expect(warned).toContainEqual(
          expect.stringContaining(`left out of the snapshot: the link ${link} -> /usr/bin/env`),
        );

        const second = await session("leave-state", { supportsResume: true, env }, undefined, {
          processId,
          resume: true,
        });
        // The earlier turn came back with the workdir; a regenerable cache did not.
        expect(second.outcome).toEqual({
          status: "done",
          summary: `turn 2, cache ${regenerable ? "absent" : "present"}`,
        });
      });

      it("cancel: cancelled, and no process of the agent is left", async () => {
        const { outcome } = await session("slow", {}, (events, cancel) => {
          if (events.some((e) => e.type === "progress" && e.message === "tick 2")) cancel();
        });
        expect(outcome).toEqual({ status: "cancelled" });
        expect(await processesUsing(join(fx.installDir, options.placeScriptedAgent.binaryName))).toEqual([]);
      });
    });
  }
}
