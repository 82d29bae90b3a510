import { posix } from "node:path";
import { FileTooLargeError, type Host, PathEscapeError, UnsafeFileError } from "@optio/host";
import { readBelow } from "./read-below.js";

/** What a file optio reads from the agent's tree (besides optio.log and deliverables) may weigh unless told otherwise. */
export const DEFAULT_AGENT_FILE_MAX_BYTES = 16 * 1024 * 1024;

export interface ReadAgentFileOptions {
  /** The most bytes read (default DEFAULT_AGENT_FILE_MAX_BYTES); a larger file fails with FileTooLargeError. */
  maxBytes?: number;
}

/**
 * Reads a file of the agent's tree: `path` workdir-relative, or absolute
 * below the workdir. No symlink is followed, neither in the file's place nor
 * in a directory on the way; the opened handle must be a regular file (a
 * FIFO never blocks the read). Null when the file is missing; a link or
 * special file fails with UnsafeFileError, a file over the cap with
 * FileTooLargeError, a path outside the workdir with PathEscapeError.
 */
export async function readAgentFile(
  host: Host,
  path: string,
  options: ReadAgentFileOptions = {},
): Promise<Buffer | null> {
  const maxBytes = options.maxBytes ?? DEFAULT_AGENT_FILE_MAX_BYTES;
  const relative = posix.relative(host.workdir, posix.resolve(host.workdir, path));
  if (relative === "" || relative.startsWith("../") || relative === ".." || posix.isAbsolute(relative)) {
    throw new PathEscapeError(`${JSON.stringify(path)} is not a file inside the workdir`);
  }
  const read = await readBelow(host, host.workdir, relative.split("/"), maxBytes, "maxBytes");
  if (read.ok) return read.bytes;
  if (read.kind === "missing") return null;
  if (read.kind === "big") throw new FileTooLargeError(`${path}: ${read.reason}`);
  throw new UnsafeFileError(`refusing to read ${path}: ${read.reason}`);
}
