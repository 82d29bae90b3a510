import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PathEscapeError } from "@optio/host";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { safeJoin, saveDeliverable } from "./save-deliverable.js";

describe("saveDeliverable", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "optio-deliv-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes nested paths under the base dir", async () => {
    const file = await saveDeliverable(join(dir, "p1"), "reports/summary.md", "hello ✓");
    expect(file).toBe(join(dir, "p1", "reports", "summary.md"));
    expect(await readFile(file, "utf8")).toBe("hello ✓");
  });

  it.each(["../outside.txt", "a/../../outside.txt", "/etc/passwd", "", ".", "a\0b"])("refuses %j", async (path) => {
    expect(() => safeJoin(join(dir, "p1"), path)).toThrow(PathEscapeError);
    await expect(saveDeliverable(join(dir, "p1"), path, "x")).rejects.toThrow(PathEscapeError);
  });

  it("keeps a dotted name that stays inside", () => {
    expect(safeJoin("/base", "a/..b/c")).toBe("/base/a/..b/c");
  });
});
