import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { isCredentialVariable, scrubCredentialsScript } from "./credential-env.js";

describe("credential variables", () => {
  it("recognises the usual credential names", () => {
    for (const name of [
      "OPENAI_API_KEY",
      "ANTHROPIC_AUTH_TOKEN",
      "ANTHROPIC_BASE_URL",
      "AWS_SECRET_ACCESS_KEY",
      "GITHUB_TOKEN",
      "GH_TOKEN",
      "DB_PASSWORD",
      "MY_SECRET",
    ]) {
      expect(isCredentialVariable(name), name).toBe(true);
    }
  });

  it("leaves ordinary variables alone", () => {
    for (const name of ["PATH", "HOME", "LANG", "TERM", "KEYBOARD", "TOKENIZER_PATH"])
      expect(isCredentialVariable(name), name).toBe(false);
  });

  it("unsets them in a real shell and keeps the rest", () => {
    const out = execFileSync("/bin/sh", ["-c", `${scrubCredentialsScript()}\nenv`], {
      env: { PATH: process.env.PATH, OPENAI_API_KEY: "x", AWS_REGION: "y", KEEP_ME: "z", MULTI: "a\nFAKE_API_KEY=b" },
      encoding: "utf8",
    });
    expect(out).not.toMatch(/^OPENAI_API_KEY=/m);
    expect(out).not.toMatch(/^AWS_REGION=/m);
    expect(out).toMatch(/^KEEP_ME=z$/m);
    expect(out).toContain("FAKE_API_KEY=b");
  });
});
