import { OptioConfigError } from "@optio/host";
import { describe, expect, it } from "vitest";
import { parseOpenCodeConfig } from "./config.js";

const problem = (input: unknown): string => {
  try {
    parseOpenCodeConfig(input);
  } catch (error) {
    expect(OptioConfigError.isInstance(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error("the config was accepted");
};

describe("parseOpenCodeConfig", () => {
  it("fills the defaults of the shared base and of opencode's own fields", () => {
    const config = parseOpenCodeConfig({});
    expect(config).toMatchObject({
      consumerInstructions: "",
      env: {},
      installIfMissing: true,
      supportsResume: true,
      registry: "https://registry.npmjs.org",
    });
    expect(config.opencodeConfig).toBeUndefined();
    expect(config.credentials).toBeUndefined();
    expect(config.agentVersion).toBeUndefined();
    expect(config.installDir).toBeUndefined();
    expect(config.installStrategies).toBeUndefined();
    expect(config.vendorScriptUrl).toBeUndefined();
  });

  it("accepts credentials as an object, a string or bytes, and a config object", () => {
    expect(parseOpenCodeConfig({ credentials: { anthropic: { type: "api", key: "k" } } }).credentials).toEqual({
      anthropic: { type: "api", key: "k" },
    });
    expect(parseOpenCodeConfig({ credentials: "{}" }).credentials).toBe("{}");
    expect(parseOpenCodeConfig({ credentials: new Uint8Array([1, 2]) }).credentials).toEqual(new Uint8Array([1, 2]));
    expect(parseOpenCodeConfig({ opencodeConfig: { model: "anthropic/claude-sonnet-4-5" } }).opencodeConfig).toEqual({
      model: "anthropic/claude-sonnet-4-5",
    });
  });

  it("names the field that is wrong", () => {
    expect(problem({ installDir: "relative/bin" })).toContain("installDir: must start with / or ~");
    expect(problem({ installStrategies: ["homebrew"] })).toContain("installStrategies.0:");
    expect(problem({ installStrategies: [] })).toContain("installStrategies:");
    expect(problem({ vendorScriptUrl: "not a url" })).toContain("vendorScriptUrl:");
    expect(problem({ credentials: 42 })).toContain("credentials:");
    expect(problem({ opencodeConfig: ["a"] })).toContain("opencodeConfig:");
    expect(problem({ agentVersion: "" })).toContain("agentVersion:");
    expect(problem({ registry: "nope" })).toContain("registry:");
  });

  it("rejects unknown fields by name and checks the shared base too", () => {
    expect(problem({ permissionMode: "plan" })).toMatch(/config: .*"permissionMode"/);
    expect(problem({ installDir: "bin" })).toContain("installDir: must start with / or ~");
    expect(problem({ sessionBlobEncrypt: (b: Uint8Array) => b })).toContain("sessionBlobDecrypt:");
  });
});
