import { adapterTestContext, type AdapterTestContext } from "@optio/agents/testing";
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseClaudeCodeConfig } from "./config.js";
import { plantClaudeHome } from "./plant.js";
import { STATE_HOOK_EVENTS, stateHookCommand } from "./state-hooks.js";

let ctx: AdapterTestContext;
const claudeDir = () => join(ctx.home, ".claude");
const mode = async (path: string) => (await stat(path)).mode & 0o777;
const json = async (path: string) => JSON.parse(await readFile(path, "utf8")) as Record<string, any>;

beforeEach(async () => {
  ctx = await adapterTestContext();
});
afterEach(async () => {
  await ctx.dispose();
});

describe("plantClaudeHome", () => {
  it("writes string credentials verbatim, mode 0600 inside 0700 dirs", async () => {
    const text = '{ "claudeAiOauth": {"accessToken": "sk-ant-oat01-abc"} }\n';
    await plantClaudeHome(ctx, parseClaudeCodeConfig({ credentialsJson: text }));
    const file = join(claudeDir(), ".credentials.json");
    expect(await readFile(file, "utf8")).toBe(text);
    expect(await mode(file)).toBe(0o600);
    expect(await mode(claudeDir())).toBe(0o700);
    expect(await mode(ctx.home)).toBe(0o700);
  });

  it("writes bytes verbatim", async () => {
    const bytes = new Uint8Array([0x7b, 0x22, 0xc3, 0xa9, 0x22, 0x3a, 0x31, 0x7d, 0x00, 0xff]);
    await plantClaudeHome(ctx, parseClaudeCodeConfig({ credentialsJson: bytes }));
    expect(new Uint8Array(await readFile(join(claudeDir(), ".credentials.json")))).toEqual(bytes);
  });

  it("writes an object as JSON", async () => {
    const credentials = { claudeAiOauth: { accessToken: "a", refreshToken: "r", expiresAt: 1 } };
    await plantClaudeHome(ctx, parseClaudeCodeConfig({ credentialsJson: credentials }));
    expect(await json(join(claudeDir(), ".credentials.json"))).toEqual(credentials);
  });

  it("writes settings.json from claudeConfig, with optio's state hooks", async () => {
    await plantClaudeHome(ctx, parseClaudeCodeConfig({ claudeConfig: { model: "opus", theme: "dark" } }));
    const { hooks, ...rest } = await json(join(claudeDir(), "settings.json"));
    expect(rest).toEqual({ model: "opus", theme: "dark" });
    expect(Object.keys(hooks)).toEqual([...STATE_HOOK_EVENTS]);
  });

  it("keeps the consumer's hooks and adds optio's after them", async () => {
    const mine = { matcher: "Bash", hooks: [{ type: "command", command: "echo mine" }] };
    await plantClaudeHome(ctx, parseClaudeCodeConfig({ claudeConfig: { hooks: { PreToolUse: [mine] } } }));
    const { hooks } = await json(join(claudeDir(), "settings.json"));
    expect(hooks.PreToolUse).toEqual([
      mine,
      { matcher: "", hooks: [{ type: "command", command: stateHookCommand("PreToolUse") }] },
    ]);
    expect(hooks.Stop).toEqual([{ matcher: "", hooks: [{ type: "command", command: stateHookCommand("Stop") }] }]);
  });

  it("refuses hooks that are not an object of event names", async () => {
    await expect(plantClaudeHome(ctx, parseClaudeCodeConfig({ claudeConfig: { hooks: [] } }))).rejects.toThrow(
      /claudeConfig\.hooks/,
    );
  });

  it("pre-accepts the bypass-mode confirmation only when that mode is chosen and the consumer did not decide", async () => {
    await plantClaudeHome(ctx, parseClaudeCodeConfig({ permissionMode: "bypassPermissions" }));
    expect(await json(join(claudeDir(), "settings.json"))).toMatchObject({ skipDangerousModePermissionPrompt: true });
    await plantClaudeHome(
      ctx,
      parseClaudeCodeConfig({
        permissionMode: "bypassPermissions",
        claudeConfig: { skipDangerousModePermissionPrompt: false },
      }),
    );
    expect(await json(join(claudeDir(), "settings.json"))).toMatchObject({ skipDangerousModePermissionPrompt: false });
    await plantClaudeHome(ctx, parseClaudeCodeConfig({}));
    expect(await json(join(claudeDir(), "settings.json"))).not.toHaveProperty("skipDangerousModePermissionPrompt");
  });

  it("writes no credentials when unset, and settings with only optio's hooks", async () => {
    await plantClaudeHome(ctx, parseClaudeCodeConfig({}));
    expect(existsSync(join(claudeDir(), ".credentials.json"))).toBe(false);
    expect(Object.keys(await json(join(claudeDir(), "settings.json")))).toEqual(["hooks"]);
  });

  it("pre-trusts the workdir and skips onboarding in claude's global config", async () => {
    await plantClaudeHome(ctx, parseClaudeCodeConfig({}));
    const file = join(claudeDir(), ".claude.json");
    const config = await json(file);
    expect(config.hasCompletedOnboarding).toBe(true);
    expect(config.projects).toEqual({ [ctx.workdir]: { hasTrustDialogAccepted: true } });
    expect(await mode(file)).toBe(0o600);
  });

  it("keeps what is already in the global config and pre-approves an API key from env", async () => {
    const file = join(claudeDir(), ".claude.json");
    await ctx.host.mkdir(claudeDir(), { mode: 0o700 });
    await ctx.host.writeText(
      file,
      JSON.stringify({ numStartups: 3, projects: { [ctx.workdir]: { allowedTools: ["Read"] }, "/elsewhere": {} } }),
    );
    await plantClaudeHome(
      ctx,
      parseClaudeCodeConfig({ env: { ANTHROPIC_API_KEY: "sk-ant-api03-0123456789abcdefghijKLMN" } }),
    );
    const config = await json(file);
    expect(config.numStartups).toBe(3);
    expect(config.projects[ctx.workdir]).toEqual({ allowedTools: ["Read"], hasTrustDialogAccepted: true });
    expect(config.projects["/elsewhere"]).toEqual({});
    expect(config.customApiKeyResponses.approved).toEqual(["0123456789abcdefghijKLMN".slice(-20)]);
  });

  it("neither blocks on a FIFO nor reads through a link in the global config's place, and writes a fresh one there", async () => {
    const file = join(claudeDir(), ".claude.json");
    const outside = join(ctx.workdir, "..", "outside-claude.json");
    await ctx.host.mkdir(claudeDir(), { mode: 0o700 });
    await ctx.host.writeText(outside, JSON.stringify({ leaked: true }));
    for (const setup of [
      `mkfifo ${JSON.stringify(file)}`,
      `ln -s ${JSON.stringify(outside)} ${JSON.stringify(file)}`,
    ]) {
      await ctx.host.runChecked(`rm -f ${JSON.stringify(file)} && ${setup}`);
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise(
        (_resolve, reject) => (timer = setTimeout(() => reject(new Error(`plant blocked (${setup})`)), 20_000)),
      );
      await Promise.race([plantClaudeHome(ctx, parseClaudeCodeConfig({})), bound]).finally(() => clearTimeout(timer));
      const config = await json(file);
      expect(config.leaked, setup).toBeUndefined();
      expect(config.hasCompletedOnboarding, setup).toBe(true);
      expect((await ctx.host.stat(file))?.type, setup).toBe("file");
    }
    expect(await json(outside)).toEqual({ leaked: true });
  }, 60_000);
});
