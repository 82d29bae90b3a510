import { execFileSync } from "node:child_process";
import { mkdtemp, mkdir, rm, symlink, writeFile, link } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { extractCommand } from "./archive.js";
import { parseListingLine } from "./archive-listing.js";
import type { EntryHeader } from "./entry-checker.js";
import { ArchiveError } from "./errors.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "optio-listing-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The parsed listing that extracting a real GNU tar archive of `src` prints. */
async function listingOf(src: string): Promise<EntryHeader[]> {
  const archive = path.join(dir, `${path.basename(src)}.tar.gz`);
  execFileSync("tar", ["-czf", archive, "-C", src, "."]);
  const out = path.join(dir, `${path.basename(src)}-out`);
  await mkdir(out);
  const listing = execFileSync("/bin/sh", ["-c", extractCommand(out, archive)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  return listing
    .split("\n")
    .filter(Boolean)
    .map(parseListingLine)
    .filter((e) => e !== null);
}

describe("parseListingLine", () => {
  it("reads names with quotes, backslashes, newlines, arrows and UTF-8 back exactly, and link targets", async () => {
    const src = path.join(dir, "names");
    const odd = 'we ird "q" \\ \nnl -> x é';
    await mkdir(path.join(src, "d"), { recursive: true });
    await writeFile(path.join(src, "d", odd), "x");
    await link(path.join(src, "d", odd), path.join(src, "hard"));
    await symlink("../t a -> b", path.join(src, "d", "sl"));
    const entries = await listingOf(src);
    const byName = new Map(entries.map((e) => [e.name, e]));
    expect(byName.get("./")).toMatchObject({ type: "directory" });
    expect(byName.get("./d/")).toMatchObject({ type: "directory" });
    expect(byName.get("./d/sl")).toMatchObject({ type: "symlink", linkname: "../t a -> b" });
    // GNU tar stores the second name of a hard-linked file as a link to the first it met.
    const file = entries.find((e) => e.type === "file")!;
    const hard = entries.find((e) => e.type === "link")!;
    expect([file.name, hard.name].sort()).toEqual([`./d/${odd}`, "./hard"].sort());
    expect(hard.linkname).toBe(file.name);
  });

  it("names the types the checker refuses instead of guessing", async () => {
    const src = path.join(dir, "fifo");
    await mkdir(src, { recursive: true });
    execFileSync("mkfifo", [path.join(src, "pipe")]);
    expect((await listingOf(src)).find((e) => e.name === "./pipe")).toMatchObject({ type: "fifo" });
    expect(() => parseListingLine('V--------- 0/0 0 2026-01-01 00:00:00 "label"')).toThrow(/unsupported type \(V\)/);
  });

  it.each([
    ["no quoted name", "-rw-r--r-- 0/0 1 2026-01-01 00:00:00 plain"],
    ["an unterminated name", '-rw-r--r-- 0/0 1 2026-01-01 00:00:00 "open'],
    ["an unknown escape", '-rw-r--r-- 0/0 1 2026-01-01 00:00:00 "a\\qb"'],
    ["text after a name", '-rw-r--r-- 0/0 1 2026-01-01 00:00:00 "a" extra'],
    ["a symlink without its target", 'lrwxrwxrwx 0/0 0 2026-01-01 00:00:00 "a"'],
    ["text after a link target", 'hrw-r--r-- 0/0 0 2026-01-01 00:00:00 "a" link to "b" more'],
    ["a short line", "tar: something"],
  ])("refuses %s with ArchiveError", (_what, line) => {
    expect(() => parseListingLine(line)).toThrow(ArchiveError);
  });

  it("decodes octal escapes as bytes", () => {
    expect(parseListingLine('-rw-r--r-- 0/0 1 2026-01-01 00:00:00 "caf\\303\\251\\t1"')?.name).toBe("café\t1");
  });

  it("takes names as printed when tar left characters unescaped, plain or after an escape", () => {
    const line = (name: string) => `-rw-r--r-- 0/0 1 2026-01-01 00:00:00 "${name}"`;
    expect(parseListingLine('drwxr-xr-x                     Creating directory: "d"')).toBeNull();
    expect(parseListingLine(line("./src/mod-1/file-1.txt"))?.name).toBe("./src/mod-1/file-1.txt");
    expect(parseListingLine(line("é😀 plain"))?.name).toBe("é😀 plain");
    expect(parseListingLine(line('\\"é😀 \\\\ x'))?.name).toBe('"é😀 \\ x');
  });
});
