import { describe, expect, it } from "vitest";
import { openCode } from "./open-code.js";
import { OPENCODE_SEED_MANIFEST } from "./seed-manifest.js";

describe("OPENCODE_SEED_MANIFEST", () => {
  it("holds the login and the global config, never the session database", () => {
    expect(OPENCODE_SEED_MANIFEST.include).toEqual([".local/share/opencode/auth.json", ".config/opencode"]);
    expect(OPENCODE_SEED_MANIFEST.include.some((p) => p.includes("opencode.db"))).toBe(false);
    expect(openCode.seed).toBe(OPENCODE_SEED_MANIFEST);
  });

  it("names only paths inside HOME", () => {
    for (const path of OPENCODE_SEED_MANIFEST.include) {
      expect(path.startsWith("/") || path.split("/").includes("..")).toBe(false);
    }
  });
});
