import type * as tar from "tar-stream";
import { ArchiveError, PathEscapeError, RestoreLimitError } from "./errors.js";
import { DEFAULT_RESTORE_MAX_BYTES, DEFAULT_RESTORE_MAX_ENTRIES } from "./host.js";
import { resolveInside } from "./tree-check.js";

/**
 * The parts of a relative archive path, without `.` segments.
 * Absolute paths and `..` segments are refused: they are how an archive
 * writes outside the directory it is restored into.
 */
export function relativeArchiveParts(name: string, what = "archive entry"): string[] {
  if (name.startsWith("/")) throw new PathEscapeError(`${what} has an absolute path: ${JSON.stringify(name)}`);
  if (name.includes("\0")) throw new ArchiveError(`${what} has a NUL byte in its path`);
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes(".."))
    throw new PathEscapeError(`${what} leaves the workdir through "..": ${JSON.stringify(name)}`);
  return parts;
}

/** What the checker needs of a tar header: tar-stream's shape, which a listing is parsed into as well. */
export type EntryHeader = Partial<tar.Header> & { name: string };

/** Tracks the archive's symlinks so each entry can be checked against those before it. */
export class EntryChecker {
  private readonly symlinks = new Map<string, string>();
  private entries = 0;
  private bytes = 0;

  constructor(private readonly limits: { maxBytes?: number; maxEntries?: number } = {}) {}

  /** Adds an entry to the totals; throws RestoreLimitError once they pass the limits. */
  private count(name: string, size: number): void {
    const maxEntries = this.limits.maxEntries ?? DEFAULT_RESTORE_MAX_ENTRIES;
    const maxBytes = this.limits.maxBytes ?? DEFAULT_RESTORE_MAX_BYTES;
    this.entries += 1;
    this.bytes += size;
    if (this.entries > maxEntries)
      throw new RestoreLimitError(`the archive holds more than ${maxEntries} entries (maxEntries)`);
    if (this.bytes > maxBytes)
      throw new RestoreLimitError(
        `the archive holds more than ${maxBytes} bytes by ${JSON.stringify(name)} (maxBytes)`,
      );
  }

  /** The header to forward, null to drop the entry (the root `.`), or a thrown error. */
  check(header: EntryHeader): EntryHeader | null {
    const parts = relativeArchiveParts(header.name);
    const name = parts.join("/");
    const type = header.type ?? "file";
    this.count(name, header.size ?? 0);
    if (name === "") {
      if (type === "directory") return null;
      throw new ArchiveError(`archive entry without a name (type ${type})`);
    }
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join("/");
      if (this.symlinks.has(prefix)) {
        throw new PathEscapeError(
          `archive entry ${JSON.stringify(name)} is written through the symlink ${JSON.stringify(prefix)}`,
        );
      }
    }
    if (this.symlinks.has(name) && type !== "symlink") {
      throw new PathEscapeError(`archive entry ${JSON.stringify(name)} replaces a symlink of the same archive`);
    }
    const out: EntryHeader = {
      name,
      type,
      mode: (header.mode ?? (type === "directory" ? 0o755 : 0o644)) & 0o777,
      mtime: header.mtime,
    };
    switch (type) {
      case "file":
      case "contiguous-file":
        out.type = "file";
        out.size = header.size ?? 0;
        return out;
      case "directory":
        return out;
      case "symlink": {
        const target = header.linkname ?? "";
        if (target === "") throw new ArchiveError(`symlink ${JSON.stringify(name)} has no target`);
        if (target.startsWith("/"))
          throw new PathEscapeError(
            `symlink ${JSON.stringify(name)} points to the absolute path ${JSON.stringify(target)}`,
          );
        resolveInside(this.symlinks, parts.slice(0, -1), target, 0, name);
        this.symlinks.set(name, target);
        out.linkname = target;
        return out;
      }
      case "link": {
        // Archives are made with --hard-dereference; a hard link would share an inode with a file that may be outside.
        const target = header.linkname ?? "";
        if (target.startsWith("/") || target.split("/").includes(".."))
          throw new PathEscapeError(
            `hardlink ${JSON.stringify(name)} targets ${JSON.stringify(target)}, outside the workdir`,
          );
        throw new ArchiveError(`archive entry ${JSON.stringify(name)} is a hard link, which a restore does not create`);
      }
      default:
        throw new ArchiveError(`archive entry ${JSON.stringify(name)} has an unsupported type: ${type}`);
    }
  }
}
