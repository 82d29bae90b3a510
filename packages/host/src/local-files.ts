import fs, { type FileHandle } from "node:fs/promises";
import path from "node:path";
import { HostFileError } from "./errors.js";
import { tempSibling } from "./temp-sibling.js";

export function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/** The error says nothing is at the path (or a parent is not a directory). */
export function isMissing(error: unknown): boolean {
  const code = errnoCode(error);
  return code === "ENOENT" || code === "ENOTDIR";
}

/** `mkdir -p`, with a file in the way reported as HostFileError. */
export async function makeDir(dir: string, mode?: number): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true, mode });
  } catch (error) {
    const code = errnoCode(error);
    throw new HostFileError(
      `cannot make directory ${dir}: ${code === "EEXIST" || code === "ENOTDIR" ? "a file is in the way" : String(error)}`,
      { cause: error },
    );
  }
}

/** Writes through a temp file in the same directory, renamed over the target once synced. */
export async function atomicWriteLocal(
  target: string,
  mode: number | undefined,
  write: (fh: FileHandle) => Promise<boolean | void>,
): Promise<boolean> {
  const dir = path.dirname(target);
  await fs.mkdir(dir, { recursive: true });
  let finalMode = mode;
  if (finalMode === undefined) {
    const existing = await fs.stat(target).catch(() => null);
    if (existing?.isFile()) finalMode = existing.mode & 0o7777;
  }
  const tmp = tempSibling(target);
  const fh = await fs.open(tmp, "wx", finalMode ?? 0o666);
  let keep = true;
  try {
    keep = (await write(fh)) !== false;
    if (keep) {
      if (finalMode !== undefined) await fh.chmod(finalMode);
      await fh.sync();
    }
  } catch (error) {
    await fh.close().catch(() => {});
    await fs.rm(tmp, { force: true });
    throw error;
  }
  await fh.close();
  if (!keep) {
    await fs.rm(tmp, { force: true });
    return false;
  }
  try {
    await fs.rename(tmp, target);
  } catch (error) {
    await fs.rm(tmp, { force: true });
    throw error;
  }
  return true;
}
