import { describe, expect, it } from "vitest";
import {
  type ListedEntry,
  listingRoots,
  parsePrivatePaths,
  patternRegExp,
  replacedOnRestore,
  selectPrivate,
} from "./private-patterns.js";
import { ResumePathError } from "./resume-errors.js";

const entries = (...paths: string[]): ListedEntry[] =>
  paths.map((p) => ({ path: p.replace(/\/$/, ""), directory: p.endsWith("/") }));

describe("parsePrivatePaths", () => {
  it("splits includes from !-excludes, normalized, and tells plain lists apart", () => {
    expect(parsePrivatePaths(["home/.claude", "./home//.claude.json"])).toEqual({
      include: ["home/.claude", "home/.claude.json"],
      exclude: [],
      literal: true,
    });
    expect(parsePrivatePaths(["home/.codex", "!home/.codex/log/*.log"])).toEqual({
      include: ["home/.codex"],
      exclude: ["home/.codex/log/*.log"],
      literal: false,
    });
    expect(parsePrivatePaths(["home/.codex/sessions/**/*.jsonl"]).literal).toBe(false);
  });

  it.each([
    ["/etc/passwd", /relative/],
    ["home/../../etc", /"\.\."/],
    ["home/.codex/**/../x", /"\.\."/],
    ["project/secret", /under home\//],
    ["*/.ssh", /under home\//],
    ["home", /under home\//],
    ["!/home/x", /relative/],
    ["!.codex", /under home\//],
    ["home/a**b/c", /whole segment/],
    ["home/x\0y", /usable/],
  ])("refuses %j with a ResumePathError naming it", (pattern, message) => {
    let error: unknown;
    try {
      parsePrivatePaths(["home/.ok", pattern]);
    } catch (e) {
      error = e;
    }
    expect(ResumePathError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(JSON.stringify(pattern));
  });

  it("refuses a regenerable path that leaves the workdir", () => {
    expect(() => parsePrivatePaths(["home/.a"], ["../outside"])).toThrow(ResumePathError);
    expect(() => parsePrivatePaths(["home/.a"], ["/tmp"])).toThrow(/regenerable path/);
  });
});

describe("patternRegExp", () => {
  it("keeps * and ? within one name and lets ** span folders", () => {
    const jsonl = patternRegExp("home/.codex/sessions/**/*.jsonl");
    expect(jsonl.test("home/.codex/sessions/a.jsonl")).toBe(true);
    expect(jsonl.test("home/.codex/sessions/2026/12/07/r-1.jsonl")).toBe(true);
    expect(jsonl.test("home/.codex/sessions/2026/r.json")).toBe(false);
    const db = patternRegExp("home/.local/share/opencode/*.db");
    expect(db.test("home/.local/share/opencode/o.db")).toBe(true);
    expect(db.test("home/.local/share/opencode/x/o.db")).toBe(false);
    expect(patternRegExp("home/v?.txt").test("home/v1.txt")).toBe(true);
    expect(patternRegExp("home/v?.txt").test("home/v12.txt")).toBe(false);
    expect(patternRegExp("home/.a/**").test("home/.a")).toBe(false);
    expect(patternRegExp("home/.a/**").test("home/.a/b/c")).toBe(true);
    expect(patternRegExp("home/a.b(c)").test("home/aXb(c)")).toBe(false);
  });
});

describe("listingRoots", () => {
  it("starts at each include's plain folders, none inside another", () => {
    const patterns = parsePrivatePaths([
      "home/.codex",
      "home/.codex/sessions/**/*.jsonl",
      "home/.local/share/opencode/*.db",
      "!home/.codex/log",
    ]);
    expect(listingRoots(patterns)).toEqual(["home/.codex", "home/.local/share/opencode"]);
  });
});

describe("selectPrivate", () => {
  it("names a folder whose every entry is private once, and matched files one by one", () => {
    const patterns = parsePrivatePaths(["home/.codex/sessions/**/*.jsonl", "home/.data/*.db"]);
    const listed = entries(
      "home/.codex/sessions/",
      "home/.codex/sessions/2026/",
      "home/.codex/sessions/2026/a.jsonl",
      "home/.codex/sessions/2026/b.jsonl",
      "home/.data/",
      "home/.data/o.db",
      "home/.data/o.db-wal",
      "home/.data/sub/",
      "home/.data/sub/p.db",
    );
    expect(selectPrivate(patterns, listed)).toEqual(["home/.codex/sessions", "home/.data/o.db"]);
  });

  it("leaves out what a !-pattern matches, and everything under it, whatever the order", () => {
    const patterns = parsePrivatePaths(["!home/.codex/log", "home/.codex", "!home/.codex/**/*.tmp"]);
    const listed = entries(
      "home/.codex/",
      "home/.codex/auth.json",
      "home/.codex/log/",
      "home/.codex/log/x.log",
      "home/.codex/state/",
      "home/.codex/state/a.json",
      "home/.codex/state/b.tmp",
      "home/.codex/rules/",
      "home/.codex/rules/r.md",
    );
    expect(selectPrivate(patterns, listed).sort()).toEqual([
      "home/.codex/auth.json",
      "home/.codex/rules",
      "home/.codex/state/a.json",
    ]);
  });

  it("selects nothing from an empty listing or an empty unmatched folder", () => {
    const patterns = parsePrivatePaths(["home/.x/*.db"]);
    expect(selectPrivate(patterns, [])).toEqual([]);
    expect(selectPrivate(patterns, entries("home/.x/", "home/.x/empty/"))).toEqual([]);
  });
});

describe("replacedOnRestore", () => {
  it("clears only plain private paths that no exclude touches", () => {
    const patterns = parsePrivatePaths([
      "home/.claude",
      "home/.codex",
      "!home/.codex/log",
      "home/.codex/sessions/**/*.jsonl",
      "home/.claude.json",
    ]);
    expect(replacedOnRestore(patterns)).toEqual(["home/.claude", "home/.claude.json"]);
  });
});
