import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installFromRegistry } from "@optio/agents/install";
import { scriptedAgentScript } from "@optio/agents/testing";
import { claudeRegistryPackage } from "@optio/claudecode/install";
import { codexRegistryPackage } from "@optio/codex/install";
import { LocalHost } from "@optio/host";
import { startTestSshd, type TestSshd } from "@optio/host/testing";
import { openCodeRegistryPackage } from "@optio/opencode/install";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs program without type declarations.
import { main, scriptedTurns, swapAgents } from "./swap-agents.mjs";

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
  codex: { binary: "codex", versionOutput: "codex-cli 0.171.0" },
} as const;
type Agent = keyof typeof STAND_INS;

let root: string;
let sshd: TestSshd;
const ROOT_VARS = ["CLAUDECODE", "OPENCODE", "CODEX"].flatMap((id) => [
  `OPTIO_${id}_TASK_ROOT`,
  `OPTIO_${id}_REMOTE_TASK_ROOT`,
]);
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

/** What the scripted answers write, the same whichever agent runs them. */
const HAIKU = "Same words, new hands\nthe job moves from shell to shell\noptio keeps the log\n";

/**
 * An install dir holding the real claude, opencode and Codex at the versions
 * the adapters' real-binary tests pin, linked from the shared cache (filled from
 * the npm registry when they are not there yet).
 */
async function realAgentsDir(): Promise<string> {
  const dir = join(root, "bin-real");
  await mkdir(dir, { recursive: true });
  const host = new LocalHost({
    consumer: "swap-test",
    processId: "install",
    env: { SWAP_TEST_TASK_ROOT: join(root, "install") },
  });
  await host.connect();
  try {
    const ctx = { host, reportProgress: () => {}, signal: new AbortController().signal };
    const pins = [
      { ...claudeRegistryPackage, version: "2.1.332" },
      { ...openCodeRegistryPackage, version: "1.18.34" },
      { ...codexRegistryPackage, version: "0.171.0" },
    ];
    for (const spec of pins) await symlink((await installFromRegistry(ctx, spec)).binaryPath, join(dir, spec.agent));
  } finally {
    await host.disconnect();
  }
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
  progress: result.progress.filter((m) => !/claude|opencode|codex/i.test(m)),
  deliverables: result.deliverables,
});

describe("swap-agents", () => {
  it("gives the same outcome, progress and deliverables with either agent on this machine", {
    timeout: 120_000,
  }, async () => {
    const claude = await run("claudecode", "local");
    const opencode = await run("opencode", "local");
    const codex = await run("codex", "local");
    expect(claude.result.outcome).toEqual({ status: "done", summary: "report written" });
    expect(claude.result.deliverables).toEqual([{ path: "report.md", text: "# Report\n\nAll good.\n" }]);
    expect(comparable(opencode)).toEqual(comparable(claude));
    expect(comparable(codex)).toEqual(comparable(claude));
    expect(await readFile(join(root, "out", "opencode", "local", "report.md"), "utf8")).toBe("# Report\n\nAll good.\n");
    for (const { lines } of [claude, opencode, codex]) {
      expect(lines.some((l) => /^terminal {3}http:\/\/127\.0\.0\.1:\d+\//.test(l))).toBe(true);
      expect(lines.some((l) => l.startsWith("deliverable report.md (20 bytes)"))).toBe(true);
      expect(lines.at(-1)).toBe("outcome    done");
    }
    expect(claude.lines[0]).toBe("Running Claude Code on this machine as swap-claudecode-local");
    expect(opencode.lines[0]).toBe("Running opencode on this machine as swap-opencode-local");
    expect(codex.lines[0]).toBe("Running Codex on this machine as swap-codex-local");
  });

  it("reports the agent's STATUS lines the same way with either agent", { timeout: 120_000 }, async () => {
    const claude = await run("claudecode", "status", { env: { OPTIO_SCENARIO: "happy" } });
    const opencode = await run("opencode", "status", { env: { OPTIO_SCENARIO: "happy" } });
    const codex = await run("codex", "status", { env: { OPTIO_SCENARIO: "happy" } });
    expect(claude.result.progress).toEqual(
      expect.arrayContaining(["reading the instructions", "working", "finishing"]),
    );
    expect(comparable(opencode)).toEqual(comparable(claude));
    expect(comparable(codex)).toEqual(comparable(claude));
    for (const { lines } of [claude, opencode, codex]) {
      expect(lines).toEqual(
        expect.arrayContaining([
          "progress    10% reading the instructions",
          "progress    60% working",
          "progress   100% finishing",
        ]),
      );
    }
  });

  it("does the same over SSH", { timeout: 180_000 }, async () => {
    const ssh = sshd.sshConfig();
    const claude = await run("claudecode", "ssh", { ssh });
    const opencode = await run("opencode", "ssh", { ssh });
    const codex = await run("codex", "ssh", { ssh });
    expect(claude.result.outcome.status).toBe("done");
    expect(comparable(opencode)).toEqual(comparable(claude));
    expect(comparable(codex)).toEqual(comparable(claude));
    expect(opencode.lines[0]).toBe(`Running opencode on ${ssh.username}@${ssh.host} as swap-opencode-ssh`);
  });

  it("runs the same instructions through the real claude, opencode and Codex against the scripted model: all done, all deliver the haiku", {
    timeout: 900_000,
  }, async () => {
    const lines: string[] = [];
    const out = join(root, "out", "scripted");
    const code = await main(
      [
        "--agent",
        "claudecode,opencode,codex",
        "--scripted",
        "--install-dir",
        await realAgentsDir(),
        "--out",
        out,
        "--state-dir",
        join(root, "state"),
      ],
      {
        print: (line: string) => lines.push(line),
      },
    );
    expect(code, lines.join("\n")).toBe(0);
    expect(lines.filter((l) => l.startsWith("outcome "))).toEqual(Array(3).fill("outcome    done"));
    expect(lines.filter((l) => l.startsWith("progress    50% haiku written"))).toHaveLength(3);
    expect(lines.slice(-3)).toEqual([
      `summary    claudecode done: haiku written; haiku.md (${HAIKU.length} bytes)`,
      `summary    opencode   done: haiku written; haiku.md (${HAIKU.length} bytes)`,
      `summary    codex      done: haiku written; haiku.md (${HAIKU.length} bytes)`,
    ]);
    for (const agent of ["claudecode", "opencode", "codex"])
      expect(await readFile(join(out, agent, "haiku.md"), "utf8"), agent).toBe(HAIKU);
  });

  it("scripts each agent's answers in its own tool names", () => {
    const calls = (agent: string) =>
      (scriptedTurns(agent) as { toolCalls?: { name: string; input: Record<string, unknown> }[] }[]).flatMap(
        (t) => t.toolCalls ?? [],
      );
    expect(calls("claudecode").map((c) => c.name)).toEqual(["Bash", "Bash"]);
    expect(calls("opencode").map((c) => c.name)).toEqual(["bash", "bash"]);
    expect(calls("codex").map((c) => c.name)).toEqual(["exec_command", "exec_command"]);
    // The same commands, in each tool's own input shape.
    expect(calls("codex").map((c) => c.input.cmd)).toEqual(calls("claudecode").map((c) => c.input.command));
    expect(() => scriptedTurns("cursor")).toThrow('no scripted answers for agent "cursor"');
  });

  it("refuses an unknown agent and a stray --identity with a usage message", async () => {
    const lines: string[] = [];
    expect(await main(["--agent", "cursor"], { print: (l: string) => lines.push(l) })).toBe(2);
    expect(lines[0]).toBe('swap-agents: --agent must be one of claudecode, opencode, codex, got "cursor"');
    lines.length = 0;
    expect(await main(["--agent", "opencode", "--identity", "k"], { print: (l: string) => lines.push(l) })).toBe(2);
    expect(lines[0]).toBe("swap-agents: --identity and --known-hosts need --ssh");
  });
});
