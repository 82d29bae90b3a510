import { adapterTestContext, type AdapterTestContext } from "@optio/agents/testing";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { startTestSshd } from "@optio/host/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseClaudeCodeConfig } from "./config.js";
import { installClaude, probeClaude } from "./install.js";
import { REAL_CLAUDE_VERSION } from "./test-context.js";

let ctx: AdapterTestContext;
beforeAll(async () => {
  ctx = await adapterTestContext({ processId: "real-install" });
});
afterAll(async () => {
  await ctx.dispose();
});

describe("the real claude from the npm registry", () => {
  it("installs through the registry strategy into the shared cache and runs", { timeout: 600_000 }, async () => {
    const dir = join(ctx.root, "bin");
    const config = parseClaudeCodeConfig({
      installDir: dir,
      installStrategies: ["npm-registry"],
      agentVersion: REAL_CLAUDE_VERSION,
    });
    const installed = await installClaude(ctx, config);
    expect(installed).toEqual({ binaryPath: join(dir, "claude"), version: REAL_CLAUDE_VERSION });
    expect(existsSync(join(homedir(), ".cache/optio/claude", REAL_CLAUDE_VERSION, "claude"))).toBe(true);
    expect(await probeClaude(ctx.host, join(ctx.home, ".local/bin/claude"))).toBe(REAL_CLAUDE_VERSION);
    // Nothing was left in the cache but published versions.
    expect((await readdir(join(homedir(), ".cache/optio/claude"))).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("pushes the binary over SFTP to an SSH host with an empty cache", { timeout: 600_000 }, async () => {
    const sshd = await startTestSshd();
    const remote = await adapterTestContext({ processId: "real-install-ssh", ssh: sshd.sshConfig() });
    try {
      const cacheDir = join(remote.root, "remote-cache");
      const config = parseClaudeCodeConfig({
        installDir: join(remote.root, "bin"),
        installStrategies: ["npm-registry"],
        agentVersion: REAL_CLAUDE_VERSION,
        installCacheDir: cacheDir,
      });
      expect(await installClaude(remote, config)).toEqual({
        binaryPath: join(remote.root, "bin", "claude"),
        version: REAL_CLAUDE_VERSION,
      });
      expect(remote.host.kind).toBe("remote");
      expect(
        remote.progress.some((m) => /^Copying @anthropic-ai\/claude-code-.+ to the host \d+\.\d\/\d+\.\d MB$/.test(m)),
      ).toBe(true);
      expect(await probeClaude(remote.host, join(cacheDir, REAL_CLAUDE_VERSION, "claude"))).toBe(REAL_CLAUDE_VERSION);
    } finally {
      await remote.dispose();
      await sshd.stop();
    }
  });

  it("installs again from the cache without downloading", { timeout: 120_000 }, async () => {
    ctx.progress.length = 0;
    const config = parseClaudeCodeConfig({
      installDir: join(ctx.root, "bin2"),
      installStrategies: ["npm-registry"],
      agentVersion: REAL_CLAUDE_VERSION,
    });
    expect((await installClaude(ctx, config)).version).toBe(REAL_CLAUDE_VERSION);
    expect(ctx.progress.some((m) => m.startsWith("Downloading") || m.startsWith("Copying"))).toBe(false);
  });
});
