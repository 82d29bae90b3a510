import { LocalHost } from "@optio/host";
import { readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ReportLevel } from "../spec/task-context.js";
import { refreshOnResume, type RenderedFile } from "./refresh.js";
import { ResumePathError } from "./resume-errors.js";
import { tempDir } from "./test-archives.js";

interface Cfg {
  instructions: string;
  settings: string;
}

const render = (config: Cfg): RenderedFile[] => [
  { path: "CLAUDE.md", content: `# Task\n${config.instructions}\n` },
  { path: "home/.claude/settings.json", content: config.settings },
];

describe("refreshOnResume", () => {
  let root: string;
  let host: LocalHost;
  let reports: Array<[ReportLevel, string]>;
  const report = (level: ReportLevel, message: string) => reports.push([level, message]);
  const file = (name: string) => path.join(host.workdir, name);
  const initial: Cfg = { instructions: "old task", settings: '{"a":1}' };

  beforeEach(async () => {
    reports = [];
    root = await tempDir("optio-refresh");
    host = new LocalHost({
      consumer: "optio-resume-test",
      processId: "p1",
      env: { OPTIO_RESUME_TEST_TASK_ROOT: root },
    });
    await host.connect();
    for (const f of render(initial)) await host.writeText(f.path, f.content);
    // An old mtime shows whether a file was rewritten.
    for (const f of render(initial)) await utimes(file(f.path), 1_000_000, 1_000_000);
  });
  afterEach(async () => {
    await host.disconnect();
    await rm(root, { recursive: true, force: true });
  });

  const mtime = async (name: string) => (await stat(file(name))).mtimeMs;

  it("rewrites only the files whose content changed", async () => {
    const result = await refreshOnResume({
      host,
      config: initial,
      onResumeRefresh: async (c) => ({ ...c, instructions: "new task" }),
      render,
      report,
    });
    expect(result.config.instructions).toBe("new task");
    expect(result.refreshed).toEqual(["CLAUDE.md"]);
    expect(await readFile(file("CLAUDE.md"), "utf8")).toBe("# Task\nnew task\n");
    expect(await mtime("home/.claude/settings.json")).toBe(1_000_000_000);
    expect(await mtime("CLAUDE.md")).not.toBe(1_000_000_000);
    expect(reports).toEqual([]);
  });

  it("accepts a synchronous hook and writes a file that went missing", async () => {
    await rm(file("home/.claude/settings.json"));
    const result = await refreshOnResume({ host, config: initial, onResumeRefresh: (c) => c, render, report });
    expect(result.refreshed).toEqual(["home/.claude/settings.json"]);
    expect(await readFile(file("home/.claude/settings.json"), "utf8")).toBe('{"a":1}');
    expect(await mtime("CLAUDE.md")).toBe(1_000_000_000);
  });

  it("reports a throwing hook, keeps the old config and rewrites nothing", async () => {
    const result = await refreshOnResume({
      host,
      config: initial,
      onResumeRefresh: () => {
        throw new Error("consumer bug");
      },
      render,
      report,
    });
    expect(result).toEqual({ config: initial, refreshed: [] });
    expect(reports).toHaveLength(1);
    expect(reports[0]![0]).toBe("warn");
    expect(reports[0]![1]).toContain("consumer bug");
    expect(await mtime("CLAUDE.md")).toBe(1_000_000_000);
  });

  it("reports a hook that returns something other than a config", async () => {
    const result = await refreshOnResume({
      host,
      config: initial,
      onResumeRefresh: async () => 42 as unknown as Cfg,
      render,
      report,
    });
    expect(result).toEqual({ config: initial, refreshed: [] });
    expect(reports[0]![0]).toBe("warn");
  });

  it("does nothing without a hook", async () => {
    await writeFile(file("CLAUDE.md"), "edited by the agent\n");
    const result = await refreshOnResume({ host, config: initial, render, report });
    expect(result).toEqual({ config: initial, refreshed: [] });
    expect(await readFile(file("CLAUDE.md"), "utf8")).toBe("edited by the agent\n");
  });

  it("refuses a rendered path that leaves the workdir", async () => {
    const error = await refreshOnResume({
      host,
      config: initial,
      onResumeRefresh: (c) => c,
      render: () => [{ path: "../outside.md", content: "x" }],
      report,
    }).catch((e: unknown) => e);
    expect(ResumePathError.isInstance(error)).toBe(true);
    expect(await stat(path.join(host.taskDir, "outside.md")).catch(() => null)).toBeNull();
  });
});
