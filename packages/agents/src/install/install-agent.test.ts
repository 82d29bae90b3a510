import { chmod, mkdir, mkdtemp, readlink, rm, symlink, unlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalHost, shellQuote, type Host } from "@optio/host";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AdapterContext } from "../spec/agent-adapter.js";
import type { HookContext } from "../spec/hook-context.js";
import { installAgentBinary, type AgentBinarySpec } from "./install-agent.js";
import { AgentInstallError, AgentNotInstalledError } from "./install-errors.js";

const TOOL = '#!/bin/sh\n[ "$1" = --version ] && { echo "4.5.6 (Tool)"; exit 0; }\nexit 1\n';

let root: string;
let host: Host;
let progress: string[];
let ctx: AdapterContext;
let abort: AbortController;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "optio-install-agent-"));
  host = new LocalHost({
    consumer: "installtest",
    processId: "p1",
    env: { INSTALLTEST_TASK_ROOT: join(root, "tasks") },
  });
  await host.connect();
  progress = [];
  abort = new AbortController();
  const home = join(root, "home");
  await mkdir(home, { recursive: true });
  const hook = {
    host,
    signal: abort.signal,
    reportProgress: (_p: number | null, m?: string) => progress.push(m ?? ""),
  } as unknown as HookContext;
  ctx = { host, hook, workdir: root, home, signal: abort.signal };
});
afterEach(async () => {
  await host.disconnect();
  await rm(root, { recursive: true, force: true });
});

async function probeTool(h: Host, path: string): Promise<string | null> {
  const result = await h.runCommand(`[ -x ${shellQuote(path)} ] && ${shellQuote(path)} --version`, {
    timeoutMs: 10_000,
  });
  return result.exitCode === 0 && result.stdout.includes("(Tool)") ? (result.stdout.split(" ")[0] ?? "") : null;
}

async function writeTool(path: string, text = TOOL): Promise<string> {
  await mkdir(join(path, ".."), { recursive: true });
  await writeFile(path, text);
  await chmod(path, 0o755);
  return path;
}

const spec = (overrides: Partial<AgentBinarySpec>): AgentBinarySpec => ({
  name: "tool",
  binaryName: "tool",
  installDir: join(root, "bin"),
  installIfMissing: true,
  probe: probeTool,
  strategies: [],
  ...overrides,
});

describe("installAgentBinary", () => {
  it("uses the binary already in the install dir without running a strategy, and links it into the home", async () => {
    const path = await writeTool(join(root, "bin", "tool"));
    const ran: string[] = [];
    const result = await installAgentBinary(
      ctx,
      spec({ strategies: [{ name: "never", run: async () => void ran.push("never") }] }),
    );
    expect(result).toEqual({ binaryPath: path, version: "4.5.6" });
    expect(ran).toEqual([]);
    expect(await readlink(join(ctx.home, ".local/bin/tool"))).toBe(path);
    // The session already says it is checking; a binary that is there adds nothing.
    expect(progress).toEqual([]);
  });

  it("fails naming the path when the binary is missing and installing is off", async () => {
    const error = await installAgentBinary(ctx, spec({ installIfMissing: false })).catch((e: unknown) => e);
    expect(AgentNotInstalledError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      `tool is not installed at ${join(root, "bin", "tool")} and installIfMissing is false`,
    );
  });

  it("tries strategies in order, keeps each failure, and links a binary a strategy placed elsewhere", async () => {
    const elsewhere = join(root, "cache", "4.5.6", "tool");
    const result = await installAgentBinary(
      ctx,
      spec({
        strategies: [
          { name: "first", run: async () => Promise.reject(new Error("no network\nmore detail")) },
          { name: "second", run: async () => writeTool(elsewhere) },
          { name: "third", run: async () => Promise.reject(new Error("must not run")) },
        ],
      }),
    );
    expect(result).toEqual({ binaryPath: join(root, "bin", "tool"), version: "4.5.6" });
    expect(await readlink(join(root, "bin", "tool"))).toBe(elsewhere);
    expect(await readlink(join(ctx.home, ".local/bin/tool"))).toBe(elsewhere);
    expect(progress).toEqual([
      "Installing tool (first)…",
      "Installing tool with first failed: no network",
      "Installing tool (second)…",
    ]);
  });

  it("counts a strategy that finishes without a working binary as failed, and lists every attempt", async () => {
    const target = join(root, "bin", "tool");
    const error = await installAgentBinary(
      ctx,
      spec({
        strategies: [
          { name: "broken", run: async (_ctx, path) => void (await writeTool(path, "#!/bin/sh\nexit 3\n")) },
          { name: "offline", run: async () => Promise.reject(new Error("cannot reach the registry")) },
        ],
      }),
    ).catch((e: unknown) => e);
    expect(AgentInstallError.isInstance(error)).toBe(true);
    const attempts = (error as AgentInstallError).attempts;
    expect(attempts.map((a) => a.strategy)).toEqual(["broken", "offline"]);
    expect(AgentNotInstalledError.isInstance(attempts[0]?.error)).toBe(true);
    expect((error as Error).message).toBe(
      `could not install tool at ${target}\n- broken: broken finished but ${target} does not run as tool\n- offline: cannot reach the registry`,
    );
  });

  it("writes the target itself when a strategy installs straight into the install dir", async () => {
    const result = await installAgentBinary(
      ctx,
      spec({
        installDir: join(root, "direct"),
        strategies: [{ name: "script", run: async (_c, path) => void (await writeTool(path)) }],
      }),
    );
    expect(result.binaryPath).toBe(join(root, "direct", "tool"));
    expect(await readlink(join(ctx.home, ".local/bin/tool"))).toBe(join(root, "direct", "tool"));
  });

  it("stops at cancellation instead of trying the next strategy", async () => {
    const ran: string[] = [];
    const error = await installAgentBinary(
      ctx,
      spec({
        strategies: [
          {
            name: "slow",
            run: async () => {
              abort.abort(new Error("cancelled by the user"));
              throw new Error("interrupted");
            },
          },
          { name: "next", run: async () => void ran.push("next") },
        ],
      }),
    ).catch((e: unknown) => e);
    expect((error as Error).message).toBe("interrupted");
    expect(ran).toEqual([]);
  });

  describe("the verified stamp", () => {
    /** probeTool, counting the binaries it runs. */
    const probed: string[] = [];
    const counting = async (h: Host, path: string) => {
      probed.push(path);
      return probeTool(h, path);
    };
    const otherTool = (version: string) =>
      `#!/bin/sh\n[ "$1" = --version ] && { echo "${version} (Tool)"; exit 0; }\nexit 1\n`;
    beforeEach(() => {
      probed.length = 0;
    });

    it("lets a start with the binary unchanged skip running it", async () => {
      const path = await writeTool(join(root, "bin", "tool"));
      expect(await installAgentBinary(ctx, spec({ probe: counting }))).toEqual({ binaryPath: path, version: "4.5.6" });
      expect(await installAgentBinary(ctx, spec({ probe: counting }))).toEqual({ binaryPath: path, version: "4.5.6" });
      expect(probed).toEqual([path]);
      expect(await readlink(join(ctx.home, ".local/bin/tool"))).toBe(path);
    });

    it("probes again when the binary was rewritten in place, even at the same size", async () => {
      const path = await writeTool(join(root, "bin", "tool"));
      await installAgentBinary(ctx, spec({ probe: counting }));
      await writeTool(path, otherTool("7.8.9"));
      // A rewrite within the same second must still count: the stamp is keyed on the exact mtime.
      await utimes(path, new Date(), new Date(Date.now() + 5000));
      expect((await installAgentBinary(ctx, spec({ probe: counting }))).version).toBe("7.8.9");
      expect(probed).toEqual([path, path]);
    });

    it("probes again when the install link points at another binary", async () => {
      const first = await writeTool(join(root, "cache", "1", "tool"));
      const second = await writeTool(join(root, "cache", "2", "tool"), otherTool("2.0.0"));
      await mkdir(join(root, "bin"), { recursive: true });
      await symlink(first, join(root, "bin", "tool"));
      expect((await installAgentBinary(ctx, spec({ probe: counting }))).version).toBe("4.5.6");
      await unlink(join(root, "bin", "tool"));
      await symlink(second, join(root, "bin", "tool"));
      expect((await installAgentBinary(ctx, spec({ probe: counting }))).version).toBe("2.0.0");
      expect(await readlink(join(ctx.home, ".local/bin/tool"))).toBe(second);
      expect(probed).toHaveLength(2);
    });

    it("notices a binary that is gone or no longer executable", async () => {
      const path = await writeTool(join(root, "bin", "tool"));
      await installAgentBinary(ctx, spec({ probe: counting }));
      await chmod(path, 0o644);
      expect(
        AgentNotInstalledError.isInstance(
          await installAgentBinary(ctx, spec({ probe: counting, installIfMissing: false })).catch((e: unknown) => e),
        ),
      ).toBe(true);
      await rm(path);
      expect(
        AgentNotInstalledError.isInstance(
          await installAgentBinary(ctx, spec({ probe: counting, installIfMissing: false })).catch((e: unknown) => e),
        ),
      ).toBe(true);
      expect(probed).toEqual([path, path, path]);
    });
  });
});
