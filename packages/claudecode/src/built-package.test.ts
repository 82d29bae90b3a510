import { importWithout } from "@optio/host/testing";
import { describe, it } from "vitest";

describe("the built package", () => {
  it("validates a config without loading the zod package", async () => {
    const check = `
      if (m.parseClaudeCodeConfig({}).registry !== "https://registry.npmjs.org") throw new Error("defaults missing");
      try { m.parseClaudeCodeConfig({ permissionMode: "nope" }); throw new Error("a bad permissionMode was accepted"); }
      catch (error) { if (!error.message.includes("config.permissionMode: Invalid option")) throw error; }`;
    await importWithout("zod", new URL("../dist/index.js", import.meta.url), check);
  });
});
