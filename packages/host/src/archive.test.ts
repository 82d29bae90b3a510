import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import * as tar from "tar-stream";
import { describe, expect, it } from "vitest";
import { archiveCommand, clearDirCommand, DEFAULT_ARCHIVE_EXCLUDES, extractCommand, sanitizeArchive } from "./archive.js";
import { ArchiveError, PathEscapeError } from "./errors.js";

type Entry = { name: string; type?: "file" | "directory" | "symlink" | "link" | "fifo" | "character-device"; linkname?: string; body?: string; mode?: number };

async function tarGz(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    pack.entry({ name: e.name, type: e.type ?? "file", linkname: e.linkname, mode: e.mode }, e.body ?? "");
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

async function sanitizedEntries(archive: Buffer): Promise<Array<{ name: string; type: string; linkname: string | null; body: string; mode: number }>> {
  const extract = tar.extract();
  const out: Array<{ name: string; type: string; linkname: string | null; body: string; mode: number }> = [];
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      out.push({ name: entry.header.name, type: entry.header.type, linkname: entry.header.linkname ?? null, body: Buffer.concat(chunks).toString(), mode: entry.header.mode });
    }
  })();
  const sanitized = sanitizeArchive(Readable.from([archive]));
  await new Promise<void>((resolve, reject) => {
    sanitized.on("error", reject);
    sanitized.on("end", resolve);
    sanitized.on("data", (c: Buffer) => extract.write(c));
  });
  extract.end(Buffer.alloc(0));
  await done;
  return out;
}

async function sanitizeError(archive: Buffer): Promise<unknown> {
  return sanitizedEntries(archive).then(
    () => null,
    (e: unknown) => e,
  );
}

describe("sanitizeArchive", () => {
  it("passes safe entries through, normalising names and dropping the root", async () => {
    const archive = await tarGz([
      { name: "./", type: "directory" },
      { name: "./a/", type: "directory", mode: 0o700 },
      { name: "./a/f.txt", body: "hello", mode: 0o4755 },
      { name: "a/link", type: "symlink", linkname: "f.txt" },
      { name: "up", type: "symlink", linkname: "a/../a/f.txt" },
    ]);
    const entries = await sanitizedEntries(archive);
    expect(entries.map((e) => [e.name, e.type])).toEqual([
      ["a", "directory"],
      ["a/f.txt", "file"],
      ["a/link", "symlink"],
      ["up", "symlink"],
    ]);
    expect(entries[1]?.body).toBe("hello");
    expect(entries[1]?.mode).toBe(0o755);
    expect(entries[0]?.mode).toBe(0o700);
  });

  it.each<[string, Entry[], typeof PathEscapeError | typeof ArchiveError]>([
    ["a .. component", [{ name: "../x", body: "x" }], PathEscapeError],
    ["an inner .. component", [{ name: "a/../../x", body: "x" }], PathEscapeError],
    ["an absolute path", [{ name: "/abs", body: "x" }], PathEscapeError],
    ["a symlink to an absolute path", [{ name: "etc", type: "symlink", linkname: "/etc" }], PathEscapeError],
    ["a symlink to ..", [{ name: "up", type: "symlink", linkname: ".." }], PathEscapeError],
    ["a symlink escaping through an earlier symlink", [{ name: "here", type: "symlink", linkname: "." }, { name: "d/", type: "directory" }, { name: "d/esc", type: "symlink", linkname: "../here/.." }], PathEscapeError],
    ["a hardlink outside", [{ name: "h", type: "link", linkname: "../etc/passwd" }], PathEscapeError],
    ["a hardlink inside", [{ name: "f", body: "x" }, { name: "h", type: "link", linkname: "f" }], ArchiveError],
    ["a write through an earlier symlink", [{ name: "s", type: "symlink", linkname: "sub" }, { name: "s/x", body: "x" }], PathEscapeError],
    ["a directory replacing an earlier symlink", [{ name: "s", type: "symlink", linkname: "sub" }, { name: "s/", type: "directory" }], PathEscapeError],
    ["a fifo", [{ name: "p", type: "fifo" }], ArchiveError],
    ["a device", [{ name: "d", type: "character-device" }], ArchiveError],
  ])("fails on %s", async (_what, entries, errorClass) => {
    const error = await sanitizeError(await tarGz(entries));
    expect(errorClass.isInstance(error)).toBe(true);
  });

  it("fails with ArchiveError on a truncated gzip, a corrupt gzip and a truncated tar", async () => {
    const good = await tarGz([{ name: "f", body: "x".repeat(100_000) }]);
    expect(ArchiveError.isInstance(await sanitizeError(good.subarray(0, good.length - 20)))).toBe(true);
    expect(ArchiveError.isInstance(await sanitizeError(Buffer.from("not gzip at all")))).toBe(true);
    const raw = Buffer.concat(await (async () => {
      const pack = tar.pack();
      pack.entry({ name: "f" }, "y".repeat(5000));
      pack.finalize();
      const chunks: Buffer[] = [];
      for await (const c of pack) chunks.push(c as Buffer);
      return chunks;
    })());
    expect(ArchiveError.isInstance(await sanitizeError(gzipSync(raw.subarray(0, 1500))))).toBe(true);
  });
});

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

  it("quotes the workdir in extract and clear commands", () => {
    expect(extractCommand("/a b")).toBe("exec tar -xf - -C '/a b' --no-same-owner --no-same-permissions");
    expect(extractCommand("/a b", "/p q.tgz")).toBe("exec tar -xzf '/p q.tgz' -C '/a b' --no-same-owner --no-same-permissions");
    expect(clearDirCommand("/a'b")).toContain(`'/a'\\''b'`);
  });
});
