import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BROWSER_OPENERS, browserShims } from "./browser-shims.js";
import { parseLogLine } from "./parse-log-line.js";

const run = promisify(execFile);

let dir: string;
let shimDir: string;
let logPath: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "optio shims "));
  shimDir = path.join(dir, "bin dir");
  logPath = path.join(dir, "optio.log");
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function install(mode: "suppress" | "redirect") {
  const shims = browserShims(mode, { shimDir, logPath });
  await mkdir(shimDir, { recursive: true });
  for (const file of shims.files) await writeFile(file.path, file.content, { mode: file.mode });
  return shims;
}

/** Runs a shell command line with the shims first on PATH, as the agent would. */
async function runWithShims(shims: ReturnType<typeof browserShims>, script: string, args: string[]) {
  const env = { ...process.env, ...shims.env, PATH: [...shims.pathPrepend, process.env.PATH ?? ""].join(":") };
  try {
    const { stdout, stderr } = await run("/bin/sh", ["-c", script, "sh", ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

async function logLines(): Promise<string[]> {
  const text = await readFile(logPath, "utf8");
  expect(text.endsWith("\n")).toBe(true);
  return text.slice(0, -1).split("\n");
}

const TRICKY_URL = `https://example.com/a path/it's "quoted"?x=1&y=$HOME&z=\`id\`#frag`;

describe("browserShims", () => {
  it("ignore mode installs nothing", () => {
    expect(browserShims("ignore", { shimDir: "/s", logPath: "/l" })).toEqual({ files: [], env: {}, pathPrepend: [] });
  });

  it.each(["suppress", "redirect"] as const)("%s mode shims every opener, first on PATH, with BROWSER set", (mode) => {
    const shims = browserShims(mode, { shimDir: "/task/bin", logPath: "/task/workdir/optio.log" });
    expect(shims.files.map((f) => f.path)).toEqual(BROWSER_OPENERS.map((name) => `/task/bin/${name}`));
    expect(shims.files.every((f) => f.mode === 0o755 && f.content.startsWith("#!/bin/sh\n"))).toBe(true);
    expect(shims.pathPrepend).toEqual(["/task/bin"]);
    expect(shims.env).toEqual({ BROWSER: "/task/bin/xdg-open" });
  });

  it("redirect shims write a BROWSER line that parses back to the same URL", async () => {
    const shims = await install("redirect");
    for (const name of BROWSER_OPENERS) {
      const args = name === "gio" ? ["open", TRICKY_URL] : [TRICKY_URL];
      const result = await runWithShims(shims, `${name} "$@"`, args);
      expect(result.code).toBe(0);
    }
    const viaBrowserVar = await runWithShims(shims, '"$BROWSER" "$@"', ["http://127.0.0.1:9/x?a=1&b=2"]);
    expect(viaBrowserVar.code).toBe(0);

    const lines = await logLines();
    expect(lines).toHaveLength(BROWSER_OPENERS.length + 1);
    for (const line of lines.slice(0, -1)) {
      expect(parseLogLine(line, "redirect")).toEqual({ type: "browser", url: TRICKY_URL });
    }
    expect(parseLogLine(lines.at(-1) ?? "", "redirect")).toEqual({
      type: "browser",
      url: "http://127.0.0.1:9/x?a=1&b=2",
    });
  });

  it("redirect shims write one line per URL, skip options, and refuse a URL with a line break", async () => {
    const shims = await install("redirect");
    expect((await runWithShims(shims, 'open "$@"', ["-a", "https://a.example/", "https://b.example/"])).code).toBe(0);
    const broken = await runWithShims(shims, 'xdg-open "$@"', ["https://c.example/\nDONE"]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/line break/);
    expect((await runWithShims(shims, 'xdg-open "$@"', ["https://d.example/\r"])).code).toBe(1);
    const lines = await logLines();
    expect(lines.map((line) => parseLogLine(line, "redirect"))).toEqual([
      { type: "browser", url: "https://a.example/" },
      { type: "browser", url: "https://b.example/" },
    ]);
  });

  it("the gio shim handles only `gio open`", async () => {
    const shims = await install("redirect");
    const other = await runWithShims(shims, 'gio "$@"', ["info", "https://a.example/"]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/only "gio open"/);
    await expect(stat(logPath)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("a line from a redirect shim is inert when parsed in the other modes", async () => {
    const shims = await install("redirect");
    await runWithShims(shims, 'xdg-open "$@"', ["https://a.example/"]);
    const [line] = await logLines();
    expect(parseLogLine(line ?? "", "suppress")).toMatchObject({ type: "ignored", keyword: "BROWSER" });
  });

  it("suppress shims succeed and write nothing", async () => {
    const shims = await install("suppress");
    for (const name of BROWSER_OPENERS) {
      const args = name === "gio" ? ["open", TRICKY_URL] : [TRICKY_URL];
      const result = await runWithShims(shims, `${name} "$@"`, args);
      expect(result).toEqual({ code: 0, stdout: "", stderr: "" });
    }
    expect((await runWithShims(shims, '"$BROWSER" "$@"', [TRICKY_URL])).code).toBe(0);
    await expect(stat(logPath)).rejects.toMatchObject({ code: "ENOENT" });
  });
});
