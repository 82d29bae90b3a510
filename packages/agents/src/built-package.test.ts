import { importWithout } from "@optio/host/testing";
import { describe, it } from "vitest";

const dist = (file: string) => new URL(`../dist/${file}`, import.meta.url);

describe("the built package", () => {
  it("validates configs and terminal messages without loading the zod package", async () => {
    const check = `
      const config = m.parseAgentConfig(m.agentTaskConfigSchema, { ssh: { host: "h", username: "u" } });
      if (config.ssh.port !== 22 || config.terminal.backend !== "builtin") throw new Error("defaults missing: " + JSON.stringify(config));
      try {
        m.parseAgentConfig(m.agentTaskConfigSchema, { env: { "BAD NAME": "x" }, ssh: { host: "h", username: "u", port: 0 }, beforeExecute: 1 });
        throw new Error("a bad config was accepted");
      } catch (error) {
        for (const part of ["config.env.BAD NAME", "config.ssh.port: Too small", "config.beforeExecute: beforeExecute must be a function"]) {
          if (!error.message.includes(part)) throw new Error("missing " + part + " in: " + error.message);
        }
      }`;
    await importWithout("zod", dist("index.js"), check);
  });
});

describe("the built vitest preset", () => {
  it("is reachable as @optio/agents/vitest and loads neither vitest nor zod", async () => {
    const check = `
      const t = m.adapterVitestPreset.test;
      if (t.testTimeout !== 60000 || t.hookTimeout !== 120000 || t.fileParallelism !== false || t.include[0] !== "src/**/*.test.ts") throw new Error("preset: " + JSON.stringify(t));`;
    await importWithout("vitest", new URL(import.meta.resolve("@optio/agents/vitest")), check);
  });
});
