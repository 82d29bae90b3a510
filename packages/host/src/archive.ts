import { relativeArchiveParts } from "./entry-checker.js";
import { shellQuote } from "./shell.js";

export { relativeArchiveParts };

/** Left out of a workdir archive unless the caller passes its own list. */
export const DEFAULT_ARCHIVE_EXCLUDES: readonly string[] = Object.freeze([
  ".git",
  "node_modules",
  "__pycache__",
  ".venv",
  "*.pyc",
  ".DS_Store",
]);

export interface ArchiveCommandOptions {
  /** The directory archived; paths in the archive are relative to it. */
  workdir: string;
  /** Patterns left out; an explicit list (even empty) replaces DEFAULT_ARCHIVE_EXCLUDES. */
  exclude?: readonly string[];
  /** Only these workdir-relative paths, those that exist. */
  include?: readonly string[];
  /** gzip level; 1 keeps the compressor from being the slowest part. */
  gzipLevel?: number;
}

/**
 * A shell command writing a tar.gz of the workdir to stdout. GNU tar's
 * unanchored `--exclude` matches a pattern against every path segment and
 * every tail of the path, `*` crossing `/`; gzip runs as its own process so
 * compressing overlaps reading. Exit status 1 from GNU tar only means a file
 * changed while it was read (see `archiveExitOk`).
 */
export function archiveCommand(options: ArchiveCommandOptions): string {
  const level = options.gzipLevel ?? 1;
  if (!Number.isInteger(level) || level < 1 || level > 9) throw new RangeError(`gzip level must be 1..9: ${level}`);
  const exclude = options.exclude ?? DEFAULT_ARCHIVE_EXCLUDES;
  const tarArgs = [
    "tar",
    `--use-compress-program=gzip -${level}`,
    // A hard link in the archive would be refused on restore: each name is stored as a file of its own.
    "--hard-dereference",
    "-cf",
    "-",
    ...exclude.map((pattern) => `--exclude=${pattern}`),
  ].map(shellQuote);
  const lines = [`cd ${shellQuote(options.workdir)} || exit 2`];
  if (options.include === undefined) {
    lines.push(`exec ${tarArgs.join(" ")} .`);
  } else {
    const paths = options.include.map((p) => relativeArchiveParts(p, "include path").join("/")).filter((p) => p !== "");
    lines.push("set --");
    if (paths.length > 0) {
      lines.push(
        `for p in ${paths.map(shellQuote).join(" ")}; do if [ -e "$p" ] || [ -L "$p" ]; then set -- "$@" "$p"; fi; done`,
      );
    }
    lines.push(`if [ $# -eq 0 ]; then exec ${tarArgs.join(" ")} -T /dev/null; fi`);
    lines.push(`exec ${tarArgs.join(" ")} -- "$@"`);
  }
  return lines.join("\n");
}

/** GNU tar exits 1 when a file changed while being read; the archive is still whole. */
export function archiveExitOk(code: number | null): boolean {
  return code === 0 || code === 1;
}

/** GNU tar's record: 20 blocks of 512 bytes. Its `--checkpoint` counts these, read after decompression. */
export const TAR_RECORD_BYTES = 10240;

/** Records between two checkpoint lines of extractCommand: about 1 MB of decompressed archive. */
const EXTRACT_CHECKPOINT_RECORDS = 100;

/** The text before the record count on each checkpoint line extractCommand writes to stderr. */
export const EXTRACT_CHECKPOINT_MARK = "optio-checkpoint:";

/**
 * Extracts the tar.gz `source` (a path, or `-` for stdin) into `dir` in one
 * pass: modes kept, owners not restored. As each entry starts, its listing
 * line (`tar -tvv` format, C-quoted names, line-buffered) goes to stdout;
 * every EXTRACT_CHECKPOINT_RECORDS records of decompressed archive, a line
 * `<mark><records read>` goes to stderr. GNU tar creates a symlink whose target is absolute or holds
 * `..` only at the end, leaving a placeholder file until then, so no entry is
 * written through such a link.
 */
export function extractCommand(dir: string, source: string): string {
  const tarArgs = [
    "stdbuf",
    "-oL",
    "tar",
    "-xzvv",
    "--quoting-style=c",
    "--numeric-owner",
    "--full-time",
    `--checkpoint=${EXTRACT_CHECKPOINT_RECORDS}`,
    `--checkpoint-action=echo=${EXTRACT_CHECKPOINT_MARK}%u`,
    "--no-same-owner",
    "--no-same-permissions",
    "-f",
    source,
  ].map(shellQuote);
  return `cd ${shellQuote(dir)} && LC_ALL=C exec ${tarArgs.join(" ")}`;
}
