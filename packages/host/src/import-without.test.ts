import { describe, expect, it } from "vitest";
import { importWithout } from "./import-without.js";

const dist = (file: string) => new URL(`../dist/${file}`, import.meta.url);

describe("importWithout", () => {
  it("fails when the module needs the refused package", async () => {
    await expect(importWithout("zod", import.meta.resolve("zod/mini"))).rejects.toThrow(/loaded from zod/);
  });

  it("fails when the code run after the import throws", async () => {
    await expect(importWithout("zod", dist("index.js"), `throw new Error("boom");`)).rejects.toThrow(/boom/);
  });
});

describe("the built package", () => {
  it("validates an SSH config without loading the zod package", async () => {
    const check = `
      const ok = m.parseSshConfig({ host: "h", username: "u" });
      if (ok.port !== 22) throw new Error("no default port");
      try { m.parseSshConfig({ host: "h", username: "u", port: 70000 }); throw new Error("accepted port 70000"); }
      catch (error) { if (!/^ssh\\.port: Too big/.test(error.message)) throw error; }`;
    await importWithout("zod", dist("ssh-config.js"), check);
    await importWithout("zod", dist("index.js"));
  });
});
