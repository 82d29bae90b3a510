import { randomBytes } from "node:crypto";
import { EXTRACT_CHECKPOINT_MARK, extractCommand, TAR_RECORD_BYTES } from "./archive.js";
import { parseListingLine } from "./archive-listing.js";
import { EntryChecker, relativeArchiveParts } from "./entry-checker.js";
import { ArchiveError, HostCommandError, PathEscapeError, RestoreLimitError } from "./errors.js";
import { DEFAULT_RESTORE_MAX_BYTES, type RestoreOptions, type RunResult } from "./host.js";
import type { ArchiveInput } from "./local-tar.js";
import { shellQuote } from "./shell.js";
import { verifyTree } from "./tree-check.js";

/** What a host lends a staged restore. */
export interface RestoreTarget {
  readonly taskDir: string;
  readonly workdir: string;
  /** Runs a shell command on the host. */
  run(command: string): Promise<RunResult>;
  /**
   * Runs `command` with `input` as its stdin, each line of its stdout to
   * `onLine` and of its stderr to `onErrorLine`. A line that throws ends the
   * command's whole process tree and the call rejects with that error.
   */
  runTar(
    command: string,
    input: ArchiveInput,
    onLine: (line: string) => void,
    onErrorLine: (line: string) => void,
  ): Promise<{ code: number | null }>;
}

/** What GNU tar prints when it strips or skips a name that leaves the directory; such an entry is refused, not rewritten. */
const NAME_LEAVES = /Member name contains '\.\.'|Removing leading `[^']*' from (member names|hard link targets)/;

/**
 * Extracts `input` into `dir` in one pass with extractCommand, checking as
 * it lands: each entry's listing line through EntryChecker (names, types,
 * links, entry count, header sizes), and the decompressed bytes tar has read
 * against maxBytes at every checkpoint, so a gzip bomb stops within a
 * checkpoint of the cap whatever its headers say. The first refusal ends tar.
 */
async function extractChecked(
  target: RestoreTarget,
  dir: string,
  input: ArchiveInput,
  limits: RestoreOptions,
): Promise<void> {
  const checker = new EntryChecker(limits);
  const maxBytes = limits.maxBytes ?? DEFAULT_RESTORE_MAX_BYTES;
  const messages: string[] = [];
  const onLine = (line: string) => {
    const header = parseListingLine(line);
    if (header) checker.check(header);
  };
  const onErrorLine = (line: string) => {
    const mark = line.indexOf(EXTRACT_CHECKPOINT_MARK);
    if (mark !== -1) {
      const read = Number(line.slice(mark + EXTRACT_CHECKPOINT_MARK.length)) * TAR_RECORD_BYTES;
      if (read > maxBytes) throw new RestoreLimitError(`the archive unpacks to more than ${maxBytes} bytes (maxBytes)`);
      return;
    }
    if (NAME_LEAVES.test(line)) throw new PathEscapeError(`the archive has an entry outside the workdir: ${line}`);
    messages.push(line);
  };
  const source = "fd" in input ? "/proc/self/fd/0" : "-";
  const { code } = await target.runTar(extractCommand(dir, source), input, onLine, onErrorLine);
  if (code !== 0)
    throw new ArchiveError(
      `the archive could not be extracted (exit ${code}; truncated or corrupt?): ${messages.slice(-5).join("\n")}`,
    );
}

/** A hidden directory beside the workdir, on the same file system, so a rename swaps it in. */
function besideWorkdir(target: RestoreTarget, what: string): string {
  return `${target.taskDir}/.${what}-${randomBytes(6).toString("hex")}`;
}

async function runChecked(target: RestoreTarget, command: string): Promise<void> {
  const result = await target.run(command);
  if (result.exitCode !== 0) throw new HostCommandError(command, result.exitCode, result.stderr);
}

/**
 * Restores a tar.gz into the workdir without ever writing through a link
 * that leaves it. The archive is extracted into an empty staging directory
 * beside the workdir (a merge, `clear: false`, starts it as a copy of the
 * checked workdir), the overlay archive on top; after each extraction the
 * staging tree on disk is checked: every symlink resolved through every
 * other stays inside, no special files, no hard links. Only then is the
 * staging tree renamed into the workdir's place. On any refusal the staging
 * tree is removed and the workdir is as it was.
 */
export async function restoreStaged(
  target: RestoreTarget,
  input: ArchiveInput,
  options: RestoreOptions = {},
): Promise<void> {
  const replaces = (options.overlay?.replaces ?? []).map((p) => relativeArchiveParts(p, "overlay path").join("/"));
  if (replaces.includes("")) throw new PathEscapeError("an overlay path names the whole workdir");
  const staging = besideWorkdir(target, "restore");
  const workdir = shellQuote(target.workdir);
  const staged = shellQuote(staging);
  const run = (command: string) => target.run(command);
  if (!(options.clear ?? true)) await verifyTree(run, target.workdir);
  await runChecked(target, `umask 077 && mkdir -p -- ${workdir} && mkdir -m 700 -- ${staged}`);
  try {
    // Copies, not hard links: a file the archive replaces must not change the workdir's copy in place.
    if (!(options.clear ?? true))
      await runChecked(target, `cp -RP --preserve=mode,timestamps -- ${workdir}/. ${staged}/`);
    await extractChecked(target, staging, input, options);
    await verifyTree(run, staging, true);
    if (options.overlay) {
      if (replaces.length > 0)
        await runChecked(target, `cd ${staged} && rm -rf -- ${replaces.map(shellQuote).join(" ")}`);
      await extractChecked(target, staging, { bytes: options.overlay.archive }, options);
      await verifyTree(run, staging, true);
    }
    const old = shellQuote(besideWorkdir(target, "replaced"));
    // Two renames; should the second fail, the first is undone.
    await runChecked(
      target,
      `chmod 700 -- ${staged} && mv -T -- ${workdir} ${old} && { mv -T -- ${staged} ${workdir} || { mv -T -- ${old} ${workdir}; exit 1; }; } && rm -rf -- ${old}`,
    );
  } catch (error) {
    await target.run(`rm -rf -- ${staged}`).catch(() => {});
    throw error;
  }
}
