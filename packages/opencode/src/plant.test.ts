import { adapterTestContext, type AdapterTestContext } from "@optio/agents/testing";
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseOpenCodeConfig } from "./config.js";
import { plantOpenCodeHome } from "./plant.js";
import { openCodeEnv } from "./command.js";
import { openCode } from "./open-code.js";

let ctx: AdapterTestContext;
const auth = () => join(ctx.home, ".local/share/opencode/auth.json");
const mode = async (path: string) => (await stat(path)).mode & 0o777;

beforeEach(async () => {
  ctx = await adapterTestContext();
});
afterEach(async () => {
  await ctx.dispose();
});

describe("plantOpenCodeHome", () => {
  it("writes string credentials verbatim to opencode's auth file, mode 0600 inside 0700 dirs", async () => {
    const text = '{ "anthropic": { "type": "api", "key": "sk-ant-api03-x" } }\n';
    await plantOpenCodeHome(ctx, parseOpenCodeConfig({ credentials: text }));
    expect(await readFile(auth(), "utf8")).toBe(text);
    expect(await mode(auth())).toBe(0o600);
    for (const dir of ["", ".local", ".local/share", ".local/share/opencode", ".config", ".config/opencode"]) {
      expect(await mode(join(ctx.home, dir)), dir || "home").toBe(0o700);
    }
  });

  it("writes bytes verbatim and an object as JSON", async () => {
    const bytes = new Uint8Array([0x7b, 0x7d, 0x00, 0xff]);
    await plantOpenCodeHome(ctx, parseOpenCodeConfig({ credentials: bytes }));
    expect(new Uint8Array(await readFile(auth()))).toEqual(bytes);
    const credentials = { openai: { type: "oauth", refresh: "r", access: "a", expires: 1 } };
    await plantOpenCodeHome(ctx, parseOpenCodeConfig({ credentials }));
    expect(JSON.parse(await readFile(auth(), "utf8"))).toEqual(credentials);
  });

  it("writes opencodeConfig as opencode.json in the workdir", async () => {
    const opencodeConfig = { $schema: "https://opencode.ai/config.json", model: "anthropic/claude-sonnet-4-5" };
    await plantOpenCodeHome(ctx, parseOpenCodeConfig({ opencodeConfig }));
    const file = join(ctx.workdir, "opencode.json");
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual(opencodeConfig);
    expect(await mode(file)).toBe(0o600);
  });

  it("points the anthropic provider at the launch's endpoint variable in the global config under HOME, mode 0600", async () => {
    await plantOpenCodeHome(ctx, parseOpenCodeConfig({ apiBaseUrl: "http://127.0.0.1:4000/" }));
    const file = join(ctx.home, ".config/opencode/opencode.json");
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({
      $schema: "https://opencode.ai/config.json",
      provider: { anthropic: { options: { baseURL: "{env:OPTIO_ANTHROPIC_BASE_URL}" } } },
    });
    expect(await mode(file)).toBe(0o600);
  });

  it("writes neither file when unset", async () => {
    await plantOpenCodeHome(ctx, parseOpenCodeConfig({}));
    expect(existsSync(auth())).toBe(false);
    expect(existsSync(join(ctx.workdir, "opencode.json"))).toBe(false);
    expect(existsSync(join(ctx.home, ".config/opencode/opencode.json"))).toBe(false);
  });
});

describe("openCode.prepare", () => {
  it("makes TMPDIR (0700) on every start, since a restore leaves the regenerable .cache out", async () => {
    const tmp = join(ctx.home, ".cache/tmp");
    expect(existsSync(tmp)).toBe(false);
    await openCode.prepare?.(ctx, parseOpenCodeConfig({}));
    expect(await mode(tmp)).toBe(0o700);
    expect(openCodeEnv(ctx.home).TMPDIR).toBe(tmp);
    expect(openCode.resume.regenerablePaths).toContain("home/.cache");
  });
});
