import { LocalHost } from "@optio/host";
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { appendResumeLog, resumeLogLine, rotateOptioLog } from "./resume-log.js";
import { tempDir } from "./test-archives.js";

const LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z( REFRESHED:[^,\n]+(,[^,\n]+)*)?$/;

describe("resume.log and optio.log rotation", () => {
  let root: string;
  let host: LocalHost;
  const file = (name: string) => path.join(host.workdir, name);

  beforeEach(async () => {
    root = await tempDir("optio-resume-log");
    host = new LocalHost({
      consumer: "optio-resume-test",
      processId: "p1",
      env: { OPTIO_RESUME_TEST_TASK_ROOT: root },
    });
    await host.connect();
  });
  afterEach(async () => {
    await host.disconnect();
    await rm(root, { recursive: true, force: true });
  });

  it("appends one ISO-8601 UTC line per session start, tagging refreshed files", async () => {
    const before = Date.now();
    await appendResumeLog(host, []);
    await appendResumeLog(host, ["CLAUDE.md"]);
    await appendResumeLog(host, ["CLAUDE.md", "home/.claude/settings.json"]);
    const lines = (await readFile(file("resume.log"), "utf8")).split("\n");
    expect(lines.pop()).toBe("");
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatch(LINE);
    expect(lines[0]).not.toContain("REFRESHED");
    expect(lines[1]).toMatch(/Z REFRESHED:CLAUDE\.md$/);
    expect(lines[2]).toMatch(/Z REFRESHED:CLAUDE\.md,home\/\.claude\/settings\.json$/);
    const stamp = Date.parse(lines[0]!);
    expect(stamp).toBeGreaterThanOrEqual(before - 1000);
    expect(stamp).toBeLessThanOrEqual(Date.now());
  });

  it("writes quotes and shell characters in file names literally", async () => {
    await appendResumeLog(host, ["it's $(echo no) `x`.md"]);
    expect(await readFile(file("resume.log"), "utf8")).toMatch(/Z REFRESHED:it's \$\(echo no\) `x`\.md\n$/);
  });

  it("refuses file names that would break the line format", () => {
    expect(() => resumeLogLine(["a,b"])).toThrow(RangeError);
    expect(() => resumeLogLine(["a\nb"])).toThrow(RangeError);
    expect(resumeLogLine([], new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 6)))).toBe("2025-01-02T03:04:05.006Z");
  });

  it("rotates optio.log by appending it to optio.log.old and emptying it", async () => {
    await writeFile(file("optio.log"), "STATUS: 10 first\nDONE\n");
    await rotateOptioLog(host);
    expect(await readFile(file("optio.log"), "utf8")).toBe("");
    expect(await readFile(file("optio.log.old"), "utf8")).toBe("STATUS: 10 first\nDONE\n");

    await writeFile(file("optio.log"), "ERROR: exited 3\n");
    await rotateOptioLog(host);
    expect(await readFile(file("optio.log"), "utf8")).toBe("");
    expect(await readFile(file("optio.log.old"), "utf8")).toBe("STATUS: 10 first\nDONE\nERROR: exited 3\n");
  });

  it("does nothing when there is no optio.log", async () => {
    await rotateOptioLog(host);
    expect(await stat(file("optio.log")).catch(() => null)).toBeNull();
    expect(await stat(file("optio.log.old")).catch(() => null)).toBeNull();
  });
});
