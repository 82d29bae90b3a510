import { OptioConfigError } from "@optio/host";
import { describe, expect, it } from "vitest";
import { claudeCodeConfigSchema, parseClaudeCodeConfig } from "./config.js";

function configError(input: unknown): Error {
  try {
    parseClaudeCodeConfig(input);
  } catch (error) {
    expect(OptioConfigError.isInstance(error)).toBe(true);
    return error as Error;
  }
  throw new Error("expected an OptioConfigError");
}

describe("claudeCodeConfigSchema", () => {
  it("fills the defaults", () => {
    const config = parseClaudeCodeConfig({});
    expect(config).toMatchObject({
      allowedTools: [],
      disallowedTools: [],
      registry: "https://registry.npmjs.org",
      installIfMissing: true,
      supportsResume: true,
      consumerInstructions: "",
    });
    expect(config.permissionMode).toBeUndefined();
    expect(config.credentialsJson).toBeUndefined();
    expect(config.claudeConfig).toBeUndefined();
    expect(config.agentVersion).toBeUndefined();
    // Unset install settings leave the choice to the adapter's install description.
    expect(config.installDir).toBeUndefined();
    expect(config.installStrategies).toBeUndefined();
    expect(config.vendorScriptUrl).toBeUndefined();
  });

  it("accepts credentials as an object, a string or bytes", () => {
    for (const credentialsJson of [{ claudeAiOauth: { accessToken: "x" } }, '{"a":1}', new Uint8Array([123, 125])]) {
      expect(parseClaudeCodeConfig({ credentialsJson }).credentialsJson).toEqual(credentialsJson);
    }
  });

  it("rejects a bad permission mode, naming the field", () => {
    expect(configError({ permissionMode: "yolo" }).message).toContain("permissionMode");
  });

  it("rejects a relative install dir, naming the field", () => {
    const message = configError({ installDir: "bin" }).message;
    expect(message).toContain("installDir");
    expect(message).toContain("must start with / or ~");
    expect(parseClaudeCodeConfig({ installDir: "~/tools" }).installDir).toBe("~/tools");
  });

  it("rejects an unknown field, naming it", () => {
    expect(configError({ permisionMode: "plan" }).message).toContain("permisionMode");
  });

  it("rejects an unknown install strategy and an empty strategy list", () => {
    expect(configError({ installStrategies: ["brew"] }).message).toContain("installStrategies");
    expect(configError({ installStrategies: [] }).message).toContain("installStrategies");
  });

  it("keeps the shared base checks", () => {
    expect(configError({ sessionBlobEncrypt: (d: Uint8Array) => d }).message).toContain("sessionBlobDecrypt");
    expect(claudeCodeConfigSchema.safeParse({ env: { "BAD-NAME": "x" } }).success).toBe(false);
  });
});
