import { adapterTestContext, type AdapterTestContext } from "@optio/agents/testing";
import { existsSync, realpathSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { startTestSshd } from "@optio/host/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCodexConfig } from "./config.js";
import { installCodex, probeCodex } from "./install.js";
import { REAL_CODEX_VERSION } from "./test-context.js";

const TARGET = "vendor/x86_64-unknown-linux-musl";

let ctx: AdapterTestContext;
beforeAll(async () => {
  ctx = await adapterTestContext({ processId: "codex-real-install" });
});
afterAll(async () => {
  await ctx.dispose();
});

describe("the real Codex from the npm registry", () => {
  it("installs its platform's version of @openai/codex into the shared cache, with its rg and sandbox helper", {
    timeout: 600_000,
  }, async () => {
    const dir = join(ctx.root, "bin");
    const config = parseCodexConfig({
      installDir: dir,
      installStrategies: ["npm-registry"],
      agentVersion: REAL_CODEX_VERSION,
    });
    expect(await installCodex(ctx, config)).toEqual({ binaryPath: join(dir, "codex"), version: REAL_CODEX_VERSION });
    const versionDir = join(homedir(), ".cache/optio/codex", REAL_CODEX_VERSION);
    expect(realpathSync(join(dir, "codex"))).toBe(join(versionDir, TARGET, "bin/codex"));
    for (const file of ["codex-path/rg", "codex-resources/bwrap", "codex-package.json"])
      expect(existsSync(join(versionDir, TARGET, file)), file).toBe(true);
    expect(await probeCodex(ctx.host, join(ctx.home, ".local/bin/codex"), ctx.home)).toBe(REAL_CODEX_VERSION);
    expect((await readdir(join(homedir(), ".cache/optio/codex"))).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("pushes the target folder over SFTP to an SSH host with an empty cache", { timeout: 900_000 }, async () => {
    const sshd = await startTestSshd();
    const remote = await adapterTestContext({ processId: "codex-real-install-ssh", ssh: sshd.sshConfig() });
    try {
      const cacheDir = join(remote.root, "remote-cache");
      const config = parseCodexConfig({
        installDir: join(remote.root, "bin"),
        installStrategies: ["npm-registry"],
        agentVersion: REAL_CODEX_VERSION,
        installCacheDir: cacheDir,
      });
      expect(await installCodex(remote, config)).toEqual({
        binaryPath: join(remote.root, "bin", "codex"),
        version: REAL_CODEX_VERSION,
      });
      expect(remote.host.kind).toBe("remote");
      expect(remote.progress.some((m) => /^Copying @openai\/codex@0\.171\.0-linux-x64 to the host /.test(m))).toBe(
        true,
      );
      expect(existsSync(join(cacheDir, REAL_CODEX_VERSION, TARGET, "codex-path/rg"))).toBe(true);
      expect(await probeCodex(remote.host, join(cacheDir, REAL_CODEX_VERSION, TARGET, "bin/codex"), remote.home)).toBe(
        REAL_CODEX_VERSION,
      );
    } finally {
      await remote.dispose();
      await sshd.stop();
    }
  });
});
