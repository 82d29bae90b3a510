import { describe, expect, it } from "vitest";
import { archiveCommand, DEFAULT_ARCHIVE_EXCLUDES, extractCommand } from "./archive.js";
import { PathEscapeError } from "./errors.js";

describe("archive commands", () => {
  it("passes each exclude as its own quoted --exclude, the default list when none is given", () => {
    expect(archiveCommand({ workdir: "/w d" })).toContain("'--exclude=*.pyc'");
    for (const pattern of DEFAULT_ARCHIVE_EXCLUDES) expect(archiveCommand({ workdir: "/w" })).toContain(pattern);
    expect(archiveCommand({ workdir: "/w", exclude: [] })).not.toContain("--exclude");
    expect(archiveCommand({ workdir: "/w", exclude: ["dist"] })).not.toContain("node_modules");
    expect(archiveCommand({ workdir: "/w d" })).toContain("cd '/w d'");
  });

  it("refuses include paths that leave the workdir", () => {
    expect(() => archiveCommand({ workdir: "/w", include: ["../x"] })).toThrow(PathEscapeError);
    expect(() => archiveCommand({ workdir: "/w", include: ["/etc"] })).toThrow(PathEscapeError);
  });

  it("quotes the directory and the source of an extraction, and never passes -P", () => {
    expect(extractCommand("/a'b", "/p q.tgz")).toMatch(/^cd '\/a'\\''b' && LC_ALL=C exec /);
    expect(extractCommand("/a", "/p q.tgz")).toMatch(/ -f '\/p q\.tgz'$/);
    expect(extractCommand("/a", "-")).not.toMatch(/-P|absolute-names/);
  });
});
