import { describe, expect, it } from "vitest";
import { excludedBy, leavesWorkdir, literalExclude } from "./outside-links.js";

describe("leavesWorkdir", () => {
  it("takes absolute targets and targets climbing above the workdir as leaving it", () => {
    expect(leavesWorkdir("home/.codex/tmp/arg0/codex", "/root/.cache/optio/codex/0.1/codex")).toBe(true);
    expect(leavesWorkdir("a/link", "../../x")).toBe(true);
    expect(leavesWorkdir("link", "..")).toBe(true);
    expect(leavesWorkdir("a/link", "")).toBe(true);
  });

  it("keeps targets that stay inside, however they wander", () => {
    expect(leavesWorkdir("a/b/link", "../c")).toBe(false);
    expect(leavesWorkdir("a/b/link", "../../c/./d")).toBe(false);
    expect(leavesWorkdir("link", "a//b/")).toBe(false);
  });
});

describe("excludedBy", () => {
  it("matches a pattern against the path or a directory above it, from any slash on", () => {
    expect(excludedBy("project/.venv/bin/python", [".venv"])).toBe(true);
    expect(excludedBy("x/node_modules/a/b", ["node_modules"])).toBe(true);
    expect(excludedBy("home/.cache/x/link", ["home/.cache"])).toBe(true);
    expect(excludedBy("deep/home/.cache/link", ["home/.cache"])).toBe(true);
    expect(excludedBy("src/mod.pyc", ["*.pyc"])).toBe(true);
    expect(excludedBy("a/b/c", ["a*c"])).toBe(true);
  });

  it("does not match part of a name", () => {
    expect(excludedBy("project/my.venv/bin/python", [".venv"])).toBe(false);
    expect(excludedBy("home/.cachet/link", ["home/.cache"])).toBe(false);
    expect(excludedBy("src/mod.py", ["*.pyc"])).toBe(false);
  });

  it("matches a literal exclude only against the very name, wildcards and all", () => {
    const odd = "dir/we*ird?[1]\\name";
    expect(excludedBy(odd, [literalExclude(odd)])).toBe(true);
    expect(excludedBy("dir/weXXird?[1]\\name", [literalExclude(odd)])).toBe(false);
    expect(excludedBy("dir/we*irdZ1\\name", [literalExclude(odd)])).toBe(false);
  });
});
