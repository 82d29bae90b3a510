import { adapterTestContext, type AdapterTestContext } from "@optio/agents/testing";
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseCodexConfig } from "./config.js";
import { codexConfigToml, plantCodexHome } from "./plant.js";

let ctx: AdapterTestContext;
const mode = async (path: string) => (await stat(path)).mode & 0o777;

beforeEach(async () => {
  ctx = await adapterTestContext();
});
afterEach(async () => {
  await ctx.dispose();
});

describe("plantCodexHome", () => {
  it("writes the login to auth.json, mode 0600 inside 0700 dirs", async () => {
    const credentials = { OPENAI_API_KEY: "sk-test" };
    await plantCodexHome(ctx, parseCodexConfig({ credentials }));
    const auth = join(ctx.home, ".codex/auth.json");
    expect(JSON.parse(await readFile(auth, "utf8"))).toEqual(credentials);
    expect(await mode(auth)).toBe(0o600);
    for (const dir of ["", ".codex"]) expect(await mode(join(ctx.home, dir)), dir || "home").toBe(0o700);
  });

  it("writes an API key given as OPENAI_API_KEY as the login; explicit credentials win", async () => {
    await plantCodexHome(ctx, parseCodexConfig({ env: { OPENAI_API_KEY: "sk-env" } }));
    const auth = join(ctx.home, ".codex/auth.json");
    expect(JSON.parse(await readFile(auth, "utf8"))).toEqual({ OPENAI_API_KEY: "sk-env" });
    expect(await mode(auth)).toBe(0o600);
    await plantCodexHome(ctx, parseCodexConfig({ env: { OPENAI_API_KEY: "sk-env" }, credentials: "{}" }));
    expect(await readFile(auth, "utf8")).toBe("{}");
  });

  it("turns the update check off, keeps the login in a file and trusts the workdir", async () => {
    await plantCodexHome(ctx, parseCodexConfig({}));
    const toml = join(ctx.home, ".codex/config.toml");
    expect(await readFile(toml, "utf8")).toBe(codexConfigToml(ctx.workdir));
    expect(await mode(toml)).toBe(0o600);
    expect(existsSync(join(ctx.home, ".codex/auth.json"))).toBe(false);
  });
});

describe("codexConfigToml", () => {
  it("puts the caller's lines after the top-level settings and before the workdir's table", () => {
    expect(codexConfigToml('/t/a "w"', 'model = "o3"\n')).toBe(
      'check_for_update_on_startup = false\ncli_auth_credentials_store = "file"\n\nmodel = "o3"\n\n[projects."/t/a \\"w\\""]\ntrust_level = "trusted"\n',
    );
  });
});
