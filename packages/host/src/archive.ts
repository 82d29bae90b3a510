import { PassThrough, type Readable } from "node:stream";
import zlib from "node:zlib";
import type * as tar from "tar-stream";
import { type EntryHeader, EntryChecker, relativeArchiveParts } from "./entry-checker.js";
import { ArchiveError } from "./errors.js";
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
      lines.push(`for p in ${paths.map(shellQuote).join(" ")}; do if [ -e "$p" ] || [ -L "$p" ]; then set -- "$@" "$p"; fi; done`);
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

/**
 * Extracts into `workdir` a plain tar from stdin (already sanitized) or, when
 * given, the tar.gz `gzipFile` (already checked): modes kept, owners not
 * restored.
 */
export function extractCommand(workdir: string, gzipFile?: string): string {
  const source = gzipFile === undefined ? "-xf -" : `-xzf ${shellQuote(gzipFile)}`;
  return `exec tar ${source} -C ${shellQuote(workdir)} --no-same-owner --no-same-permissions`;
}

/** Empties `dir` but keeps the directory itself (and its mode). */
export function clearDirCommand(dir: string): string {
  return `find ${shellQuote(dir)} -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +`;
}

type TarStream = typeof import("tar-stream");
let tarStreamModule: Promise<TarStream> | null = null;

/** tar-stream, loaded by the first restore: archiving and everything else never need it. */
function loadTarStream(): Promise<TarStream> {
  tarStreamModule ??= import("tar-stream");
  return tarStreamModule;
}

/**
 * Gunzips and checks a tar.gz, emitting a plain tar of only its safe
 * entries. Each header is checked before anything of its entry is passed on,
 * so an unsafe entry ends the stream (with PathEscapeError or ArchiveError)
 * before a byte of it reaches the extractor. Corrupt or truncated input ends
 * it with ArchiveError.
 */
export function sanitizeArchive(input: Readable): Readable {
  const out = new PassThrough();
  let stages: { gunzip: zlib.Gunzip; extract: tar.Extract; pack: tar.Pack } | null = null;
  const state = { failed: false };

  const fail = (error: Error) => {
    if (state.failed) return;
    state.failed = true;
    if (stages) {
      input.unpipe(stages.gunzip);
      stages.gunzip.destroy();
      stages.extract.destroy();
      stages.pack.destroy();
    }
    out.destroy(error);
  };

  input.on("error", (e) => fail(new ArchiveError("reading the archive failed", { cause: e })));
  out.on("close", () => {
    if (!out.writableFinished) fail(new ArchiveError("the sanitized archive was closed before its end"));
  });
  // Nothing is read from `input` until the stages are piped, so waiting for the module loses nothing.
  loadTarStream().then(
    (tarStream) => {
      if (!state.failed) stages = startSanitizing(tarStream, input, out, state, fail);
    },
    (error: unknown) => fail(new ArchiveError("could not load tar-stream", { cause: error })),
  );
  return out;
}

/** Wires gunzip → tar extract → entry checks → tar pack → `out`; every failure goes to `fail`. */
function startSanitizing(tarStream: TarStream, input: Readable, out: PassThrough, state: { readonly failed: boolean }, fail: (error: Error) => void) {
  // 64 KB output pieces instead of zlib's 16 KB: a quarter of the chunks through every stage, a restore ~35% faster.
  const gunzip = zlib.createGunzip({ chunkSize: 64 * 1024 });
  const extract = tarStream.extract();
  const pack = tarStream.pack();
  const checker = new EntryChecker();

  gunzip.on("error", (e) => fail(new ArchiveError("the archive is not valid gzip (truncated or corrupt)", { cause: e })));
  extract.on("error", (e: Error) => fail(new ArchiveError("the archive is not a valid tar (truncated or corrupt)", { cause: e })));
  pack.on("error", (e: Error) => fail(new ArchiveError("re-packing the archive failed", { cause: e })));

  extract.on("entry", (header, stream, next) => {
    // A truncated entry errors here and on `extract`; the latter reports it.
    stream.on("error", () => {});
    let safe: EntryHeader | null;
    try {
      safe = checker.check(header);
    } catch (error) {
      stream.resume();
      fail(error as Error);
      return;
    }
    if (safe === null) {
      stream.on("end", () => next());
      stream.resume();
      return;
    }
    const sink = pack.entry(safe, (error) => {
      if (error) fail(new ArchiveError(`re-packing ${JSON.stringify(safe.name)} failed`, { cause: error }));
      else next();
    });
    sink.on("error", () => {});
    stream.pipe(sink);
  });
  extract.on("finish", () => {
    if (!state.failed) pack.finalize();
  });

  pack.on("data", (chunk: unknown) => {
    if (!out.write(chunk)) pack.pause();
  });
  out.on("drain", () => pack.resume());
  pack.on("end", () => {
    if (!state.failed) out.end();
  });

  input.pipe(gunzip).pipe(extract);
  return { gunzip, extract, pack };
}
