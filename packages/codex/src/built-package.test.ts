import { importWithout } from "@optio/host/testing";
import { describe, it } from "vitest";

describe("the built package", () => {
  it("validates a config without loading the zod package", async () => {
    const check = `
      if (m.parseCodexConfig({}).registry !== "https://registry.npmjs.org") throw new Error("defaults missing");
      try { m.parseCodexConfig({ registry: "not a url" }); throw new Error("a bad registry was accepted"); }
      catch (error) { if (!error.message.includes("config.registry: Invalid URL")) throw error; }`;
    await importWithout("zod", new URL("../dist/index.js", import.meta.url), check);
  });
});
