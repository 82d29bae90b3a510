import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { guardRealDirs } from "./real-dirs-guard.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "optio-guard-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("guardRealDirs", () => {
  it("reports nothing while the dirs are left alone, and cleans up after itself", async () => {
    const existing = join(root, "existing");
    await mkdir(existing);
    await writeFile(join(existing, "kept"), "x");
    const made = join(root, "made", "by-guard");
    const guard = await guardRealDirs({ watched: [existing, made], untouched: [join(root, "never")] });
    expect(await guard.changes()).toEqual([]);
    await guard.release();
    expect(await readdir(existing)).toEqual(["kept"]);
    expect(existsSync(made)).toBe(false);
  });

  it("does not count another guard's canary coming or going as a change, on the same dir at the same time", async () => {
    const dir = join(root, "shared");
    const first = await guardRealDirs({ watched: [dir] });
    const second = await guardRealDirs({ watched: [dir] });
    await first.release();
    const third = await guardRealDirs({ watched: [dir] });
    expect(await second.changes()).toEqual([]);
    await writeFile(join(dir, "real-change"), "x");
    expect(await second.changes()).toEqual([`${join(dir, "real-change")}: added`]);
    await Promise.all([second.release(), third.release()]);
  });

  it("names every file added, modified or removed, a touched canary, and a path created", async () => {
    const dir = join(root, "agent");
    await mkdir(dir);
    await writeFile(join(dir, "settings"), "old");
    await writeFile(join(dir, "doomed"), "x");
    const never = join(root, "never");
    const guard = await guardRealDirs({ watched: [dir], untouched: [never] });
    const canary = (await readdir(dir)).find((name) => name.startsWith("optio-canary-"))!;
    await writeFile(join(dir, "settings"), "new and longer");
    await rm(join(dir, "doomed"));
    await writeFile(join(dir, "added"), "y");
    await writeFile(join(dir, canary), "overwritten\n");
    await mkdir(never);
    const changes = await guard.changes();
    expect(changes).toEqual(
      expect.arrayContaining([
        `${join(dir, canary)}: canary changed or removed`,
        `${join(dir, "settings")}: modified`,
        `${join(dir, "doomed")}: removed`,
        `${join(dir, "added")}: added`,
        `${never}: created`,
      ]),
    );
    await guard.release();
  });
});
