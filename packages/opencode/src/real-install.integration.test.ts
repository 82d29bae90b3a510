import { adapterTestContext, type AdapterTestContext } from "@optio/agents/testing";
import { existsSync, realpathSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { shellQuote } from "@optio/host";
import { startTestSshd } from "@optio/host/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openCodeEnv } from "./command.js";
import { parseOpenCodeConfig } from "./config.js";
import { installOpenCode, probeOpenCode } from "./install.js";
import { openCode } from "./open-code.js";
import { REAL_OPENCODE_VERSION } from "./test-context.js";

let ctx: AdapterTestContext;
beforeAll(async () => {
  ctx = await adapterTestContext({ processId: "real-install" });
});
afterAll(async () => {
  await ctx.dispose();
});

describe("the real opencode from the npm registry", () => {
  it("installs through the registry strategy into the shared cache and runs", { timeout: 600_000 }, async () => {
    const dir = join(ctx.root, "bin");
    const config = parseOpenCodeConfig({
      installDir: dir,
      installStrategies: ["npm-registry"],
      agentVersion: REAL_OPENCODE_VERSION,
    });
    expect(await installOpenCode(ctx, config)).toEqual({
      binaryPath: join(dir, "opencode"),
      version: REAL_OPENCODE_VERSION,
    });
    // Caches filled before the package layout was kept hold `<version>/opencode`, newer ones `<version>/bin/opencode`.
    expect(
      realpathSync(join(dir, "opencode")).startsWith(
        `${join(homedir(), ".cache/optio/opencode", REAL_OPENCODE_VERSION)}/`,
      ),
    ).toBe(true);
    expect(await probeOpenCode(ctx.host, join(ctx.home, ".local/bin/opencode"), ctx.home)).toBe(REAL_OPENCODE_VERSION);
    expect((await readdir(join(homedir(), ".cache/optio/opencode"))).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("can continue only once the real opencode stored a session for the workdir", { timeout: 120_000 }, async () => {
    const env = { HOME: ctx.home, ...openCodeEnv(ctx.home) };
    const opencode = shellQuote(join(ctx.home, ".local/bin/opencode"));
    expect(await openCode.resume.canContinue(ctx)).toBe(false);
    // An idle start creates the session database with no session in it.
    await ctx.host.runChecked(`${opencode} session list`, { env, timeoutMs: 60_000 });
    expect(existsSync(join(ctx.home, ".local/share/opencode/opencode.db"))).toBe(true);
    expect(await openCode.resume.canContinue(ctx)).toBe(false);
    const session = {
      info: {
        id: "ses_0000000000001optioTestAa",
        slug: "optio-test",
        projectID: "global",
        directory: ctx.workdir,
        title: "optio test",
        version: REAL_OPENCODE_VERSION,
        time: { created: 1, updated: 1 },
      },
      messages: [],
    };
    await ctx.host.writeText(join(ctx.root, "session.json"), JSON.stringify(session));
    await ctx.host.runChecked(`${opencode} import ${shellQuote(join(ctx.root, "session.json"))}`, {
      env,
      timeoutMs: 60_000,
    });
    expect(await openCode.resume.canContinue(ctx)).toBe(true);
  });

  it("pushes the binary over SFTP to an SSH host with an empty cache", { timeout: 600_000 }, async () => {
    const sshd = await startTestSshd();
    const remote = await adapterTestContext({ processId: "real-install-ssh", ssh: sshd.sshConfig() });
    try {
      const cacheDir = join(remote.root, "remote-cache");
      const config = parseOpenCodeConfig({
        installDir: join(remote.root, "bin"),
        installStrategies: ["npm-registry"],
        agentVersion: REAL_OPENCODE_VERSION,
        installCacheDir: cacheDir,
      });
      expect(await installOpenCode(remote, config)).toEqual({
        binaryPath: join(remote.root, "bin", "opencode"),
        version: REAL_OPENCODE_VERSION,
      });
      expect(remote.host.kind).toBe("remote");
      expect(remote.progress.some((m) => /^Copying opencode-.+ to the host \d+\.\d\/\d+\.\d MB$/.test(m))).toBe(true);
      expect(
        await probeOpenCode(remote.host, join(cacheDir, REAL_OPENCODE_VERSION, "bin", "opencode"), remote.home),
      ).toBe(REAL_OPENCODE_VERSION);
    } finally {
      await remote.dispose();
      await sshd.stop();
    }
  });
});
