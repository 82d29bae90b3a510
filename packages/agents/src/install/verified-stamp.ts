import { posix } from "node:path";
import type { Host } from "@optio/host";

/**
 * What a probe found at an install path, and the file it ran: with it, a
 * start whose binary is still that file skips executing `--version` (a
 * quarter of a second for claude, on every start).
 */
interface VerifiedStamp {
  /** The binary's canonical path (every link resolved). */
  binary: string;
  size: number;
  mode: number;
  mtimeMs: number;
  /** What the probe reported; `""` when the binary runs but names no version. */
  version: string;
}

/** `<dir>/.<name>.optio-verified.json`, beside the install path it speaks for. */
export function verifiedStampPath(targetPath: string): string {
  return posix.join(posix.dirname(targetPath), `.${posix.basename(targetPath)}.optio-verified.json`);
}

/** The file an install path leads to, as a stamp records it. */
export type StampedFile = Omit<VerifiedStamp, "version">;

/** What is known about an install path before probing it. */
export interface StampCheck {
  /** The version a valid stamp vouches for; null when the binary has to be probed. */
  version: string | null;
  /** The file at the path now, null when nothing regular is there: what a stamp written after probing records. */
  file: StampedFile | null;
}

async function currentFile(host: Host, targetPath: string): Promise<StampedFile | null> {
  const binary = await host.realpath(targetPath);
  const stat = binary === null ? null : await host.stat(binary);
  if (binary === null || stat?.type !== "file") return null;
  return { binary, size: stat.size, mode: stat.mode, mtimeMs: stat.mtimeMs };
}

function parseStamp(text: string): VerifiedStamp | null {
  try {
    const value = JSON.parse(text) as Partial<VerifiedStamp> | null;
    const numbers = [value?.size, value?.mode, value?.mtimeMs].every((n) => typeof n === "number");
    return numbers && typeof value?.binary === "string" && typeof value.version === "string"
      ? (value as VerifiedStamp)
      : null;
  } catch {
    return null;
  }
}

/**
 * Reads the stamp and looks at the binary at `targetPath` at once. The
 * stamp's version counts only while the binary is still the file it was
 * written for: a new link target, a rewrite or a changed mode voids it.
 */
export async function checkVerifiedStamp(host: Host, targetPath: string): Promise<StampCheck> {
  const [text, file] = await Promise.all([
    host.readFile(verifiedStampPath(targetPath)).then(
      (data) => data.toString("utf8"),
      () => null,
    ),
    currentFile(host, targetPath).catch(() => null),
  ]);
  const stamp = text === null ? null : parseStamp(text);
  const same =
    stamp !== null &&
    file !== null &&
    (["binary", "size", "mode", "mtimeMs"] as const).every((key) => stamp[key] === file[key]);
  return { version: same ? stamp.version : null, file };
}

/**
 * Records that `file`, seen before the probe ran, probed as `version` (a
 * binary replaced meanwhile no longer matches, so it is probed again). An
 * install dir that cannot be written to just keeps being probed.
 */
export async function writeVerifiedStamp(
  host: Host,
  targetPath: string,
  file: StampedFile,
  version: string,
): Promise<void> {
  const stamp: VerifiedStamp = { ...file, version };
  await host.writeText(verifiedStampPath(targetPath), `${JSON.stringify(stamp)}\n`).catch(() => undefined);
}
