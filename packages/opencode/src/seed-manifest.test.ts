import { describe, expect, it } from "vitest";
import { openCode } from "./open-code.js";
import { OPENCODE_SEED_MANIFEST } from "./seed-manifest.js";

describe("OPENCODE_SEED_MANIFEST", () => {
  it("holds the login and the global config, never the session database", () => {
    expect(OPENCODE_SEED_MANIFEST.include).toEqual(["home/.local/share/opencode/auth.json", "home/.config/opencode"]);
    expect(OPENCODE_SEED_MANIFEST.include.some((p) => p.includes("opencode.db"))).toBe(false);
    expect(openCode.seed).toBe(OPENCODE_SEED_MANIFEST);
  });

  it("names only paths inside HOME, written from the workdir as private paths are", () => {
    for (const path of OPENCODE_SEED_MANIFEST.include) {
      expect(path.startsWith("home/") && !path.split("/").includes("..")).toBe(true);
    }
  });
});
