import { builtExports } from "@optio/agents/testing";
import { importWithout } from "@optio/host/testing";
import { describe, expect, it } from "vitest";

const dist = (file: string) => new URL(`../dist/${file}`, import.meta.url);

describe("the built package", () => {
  it("validates a config without loading the zod package", async () => {
    const check = `
      const { parseAgentConfig } = await import(${JSON.stringify(import.meta.resolve("@optio/agents"))});
      const parse = (input) => parseAgentConfig(m.claudeCodeConfigSchema, input);
      if (parse({}).registry !== "https://registry.npmjs.org") throw new Error("defaults missing");
      try { parse({ permissionMode: "nope" }); throw new Error("a bad permissionMode was accepted"); }
      catch (error) { if (!error.message.includes("config.permissionMode: Invalid option")) throw error; }`;
    await importWithout("zod", dist("index.js"), check);
  });

  it("exports the adapter, its factory, its task creator, its config schema and their types, nothing else", async () => {
    expect(await builtExports(dist("index.js"))).toEqual([
      "ClaudeCodeOptions",
      "ClaudeCodeTaskConfig",
      "ClaudeCodeTaskConfigInput",
      "ClaudeCodeTaskOptions",
      "PermissionMode",
      "claudeCode",
      "claudeCodeConfigSchema",
      "createClaudeCode",
      "createClaudeCodeTask",
    ]);
  });

  it("exports where the agent is published from /install", async () => {
    expect(await builtExports(dist("install.js"))).toEqual(["claudeRegistryPackage"]);
  });
});
