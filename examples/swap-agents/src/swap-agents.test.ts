import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scriptedAgentScript, startScriptedModel } from "@optio/agents/testing";
import { startTestSshd, type TestSshd } from "@optio/host/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs program without type declarations.
import { main, SCRIPTED_TURNS, swapAgents } from "./swap-agents.mjs";

interface SwapResult {
  processId: string;
  outcome: { status: string };
  progress: string[];
  deliverables: { path: string; text: string }[];
}

/** The stand-in each adapter finds in its install dir, under the real binary's name and version line. */
const STAND_INS = {
  claudecode: { binary: "claude", versionOutput: "2.1.332 (Claude Code)" },
  opencode: { binary: "opencode", versionOutput: "1.18.34" },
} as const;
type Agent = keyof typeof STAND_INS;

let root: string;
let sshd: TestSshd;
const ROOT_VARS = ["OPTIO_CLAUDECODE_TASK_ROOT", "OPTIO_CLAUDECODE_REMOTE_TASK_ROOT", "OPTIO_OPENCODE_TASK_ROOT", "OPTIO_OPENCODE_REMOTE_TASK_ROOT"];
const saved = new Map<string, string | undefined>();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "optio-swap-"));
  // Task dirs in the temp root, never under the user's ~/.local/share or /tmp/<agent>.
  for (const name of ROOT_VARS) {
    saved.set(name, process.env[name]);
    process.env[name] = join(root, "tasks", name.toLowerCase());
  }
  sshd = await startTestSshd();
});

afterAll(async () => {
  await sshd?.stop();
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await rm(root, { recursive: true, force: true });
});

async function installDirFor(agent: Agent, label: string): Promise<string> {
  const dir = join(root, `bin-${agent}-${label}`);
  await mkdir(dir, { recursive: true });
  const { binary, versionOutput } = STAND_INS[agent];
  await writeFile(join(dir, binary), scriptedAgentScript({ versionOutput }), { mode: 0o755 });
  return dir;
}

async function run(agent: Agent, label: string, extra: Record<string, unknown> = {}) {
  const lines: string[] = [];
  const result = (await swapAgents({
    agent,
    installDir: await installDirFor(agent, label),
    processId: `swap-${agent}-${label}`,
    out: join(root, "out", agent, label),
    stateDir: join(root, "state"),
    // The stand-in writes a report and delivers it, the way an agent following the instructions would.
    env: { OPTIO_SCENARIO: "deliverable" },
    print: (line: string) => lines.push(line),
    ...extra,
  })) as SwapResult;
  return { result, lines };
}

/** What should not depend on the agent: the outcome, the protocol's progress messages and the deliverables. */
const comparable = ({ result }: { result: SwapResult }) => ({
  outcome: result.outcome,
  progress: result.progress.filter((m) => !/claude|opencode/i.test(m)),
  deliverables: result.deliverables,
});

describe("swap-agents", () => {
  it("gives the same outcome, progress and deliverables with either agent on this machine", { timeout: 120_000 }, async () => {
    const claude = await run("claudecode", "local");
    const opencode = await run("opencode", "local");
    expect(claude.result.outcome).toEqual({ status: "done", summary: "report written" });
    expect(claude.result.deliverables).toEqual([{ path: "report.md", text: "# Report\n\nAll good.\n" }]);
    expect(comparable(opencode)).toEqual(comparable(claude));
    expect(await readFile(join(root, "out", "opencode", "local", "report.md"), "utf8")).toBe("# Report\n\nAll good.\n");
    for (const { lines } of [claude, opencode]) {
      expect(lines.some((l) => /^terminal {3}http:\/\/127\.0\.0\.1:\d+\//.test(l))).toBe(true);
      expect(lines.some((l) => l.startsWith("deliverable report.md (20 bytes)"))).toBe(true);
      expect(lines.at(-1)).toBe("outcome    done");
    }
    expect(claude.lines[0]).toBe("Running Claude Code on this machine as swap-claudecode-local");
    expect(opencode.lines[0]).toBe("Running opencode on this machine as swap-opencode-local");
  });

  it("reports the agent's STATUS lines the same way with either agent", { timeout: 120_000 }, async () => {
    const claude = await run("claudecode", "status", { env: { OPTIO_SCENARIO: "happy" } });
    const opencode = await run("opencode", "status", { env: { OPTIO_SCENARIO: "happy" } });
    expect(claude.result.progress).toEqual(expect.arrayContaining(["reading the instructions", "working", "finishing"]));
    expect(comparable(opencode)).toEqual(comparable(claude));
    for (const { lines } of [claude, opencode]) {
      expect(lines).toEqual(expect.arrayContaining(["progress    10% reading the instructions", "progress    60% working", "progress   100% finishing"]));
    }
  });

  it("does the same over SSH", { timeout: 180_000 }, async () => {
    const ssh = sshd.sshConfig();
    const claude = await run("claudecode", "ssh", { ssh });
    const opencode = await run("opencode", "ssh", { ssh });
    expect(claude.result.outcome.status).toBe("done");
    expect(comparable(opencode)).toEqual(comparable(claude));
    expect(opencode.lines[0]).toBe(`Running opencode on ${ssh.username}@${ssh.host} as swap-opencode-ssh`);
  });

  it("the real claude does the job against the scripted model: outcome done and the haiku delivered", { timeout: 600_000 }, async () => {
    const model = await startScriptedModel({ turns: SCRIPTED_TURNS });
    try {
      const lines: string[] = [];
      const result = (await swapAgents({
        agent: "claudecode",
        apiBaseUrl: model.url,
        // The real binary, pinned like the adapter's own real-binary tests, from the shared cache.
        agentConfig: { claudeInstallDir: join(root, "bin-real-claude"), installStrategies: ["npm-registry"], claudeVersion: "2.1.332" },
        processId: "swap-claudecode-scripted",
        out: join(root, "out", "claudecode", "scripted"),
        stateDir: join(root, "state"),
        env: { ANTHROPIC_API_KEY: "sk-ant-scripted-stand-in-key" },
        print: (line: string) => lines.push(line),
      })) as SwapResult;
      expect(result.outcome).toEqual({ status: "done", summary: "haiku written" });
      expect(result.deliverables).toEqual([{ path: "haiku.md", text: "Same words, new hands\nthe job moves from shell to shell\noptio keeps the log\n" }]);
      expect(lines).toContain("progress    50% haiku written");
      expect(lines.at(-1)).toBe("outcome    done");
      expect(model.turnsUsed).toBeGreaterThanOrEqual(2);
    } finally {
      await model.close();
    }
  });

  it("refuses an unknown agent and a stray --identity with a usage message", async () => {
    const lines: string[] = [];
    expect(await main(["--agent", "cursor"], { print: (l: string) => lines.push(l) })).toBe(2);
    expect(lines[0]).toBe('swap-agents: --agent must be one of claudecode, opencode, got "cursor"');
    lines.length = 0;
    expect(await main(["--agent", "opencode", "--identity", "k"], { print: (l: string) => lines.push(l) })).toBe(2);
    expect(lines[0]).toBe("swap-agents: --identity and --known-hosts need --ssh");
  });
});
