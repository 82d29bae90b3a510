import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, rmdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface RealDirsGuardOptions {
  /** Directories the agent uses when its HOME is not isolated: each gets a canary file, and every entry's size and mtime are recorded. */
  watched: readonly string[];
  /** Paths the agent would create: whether each exists must not change. */
  untouched?: readonly string[];
}

export interface RealDirsGuard {
  /** What changed in the watched dirs and untouched paths since the guard was set; empty when the isolation held. */
  changes(): Promise<string[]>;
  /** Removes the canaries, and the watched dirs the guard made itself (they must be empty again). */
  release(): Promise<void>;
}

const CANARY_TEXT = "do not touch\n";

const CANARY_PREFIX = "optio-canary-";

/** Every entry under `dir` with its size and mtime, by path; other guards' canaries are theirs to add and remove. */
async function inventory(dir: string, ownCanary: string): Promise<Map<string, string>> {
  const rows = new Map<string, string>();
  for (const entry of await readdir(dir, { recursive: true }).catch(() => [] as string[])) {
    if (entry.startsWith(CANARY_PREFIX) && entry !== ownCanary) continue;
    const path = join(dir, entry);
    const s = await stat(path).catch(() => null);
    rows.set(path, s ? `${s.size} ${s.mtimeMs}` : "gone while listing");
  }
  return rows;
}

/**
 * Watches the real user's agent directories while tests run an agent with an
 * isolated HOME: a test then asserts that `changes()` is empty.
 */
export async function guardRealDirs(options: RealDirsGuardOptions): Promise<RealDirsGuard> {
  const canaryName = `${CANARY_PREFIX}${randomBytes(4).toString("hex")}`;
  const created = options.watched.filter((dir) => !existsSync(dir));
  for (const dir of options.watched) {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, canaryName), CANARY_TEXT);
  }
  const before = new Map<string, string>();
  for (const dir of options.watched) for (const [path, row] of await inventory(dir, canaryName)) before.set(path, row);
  const untouched = options.untouched ?? [];
  const existed = untouched.map((path) => existsSync(path));

  return {
    async changes() {
      const found: string[] = [];
      for (const dir of options.watched) {
        const canary = join(dir, canaryName);
        if ((await readFile(canary, "utf8").catch(() => null)) !== CANARY_TEXT)
          found.push(`${canary}: canary changed or removed`);
      }
      const after = new Map<string, string>();
      for (const dir of options.watched)
        for (const [path, row] of await inventory(dir, canaryName)) after.set(path, row);
      for (const [path, row] of after) {
        if (!before.has(path)) found.push(`${path}: added`);
        else if (before.get(path) !== row) found.push(`${path}: modified`);
      }
      for (const path of before.keys()) if (!after.has(path)) found.push(`${path}: removed`);
      untouched.forEach((path, i) => {
        if (existsSync(path) !== existed[i]) found.push(`${path}: ${existed[i] ? "removed" : "created"}`);
      });
      return found;
    },
    async release() {
      for (const dir of options.watched) await rm(join(dir, canaryName), { force: true });
      for (const dir of created) {
        // Still holding another guard's canary: that guard is watching, so the dir stays (empty once it is done).
        await rmdir(dir).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== "ENOTEMPTY") throw error;
        });
      }
    },
  };
}
