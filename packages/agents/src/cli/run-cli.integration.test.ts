import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createScriptedAdapter } from "../testing.js";
import { runCli } from "./run-cli.js";
import { type CliSandbox, createCliSandbox } from "./test-fixtures/cli-harness.js";

const adapter = createScriptedAdapter();
let sandbox: CliSandbox;
let savedDataHome: string | undefined;

// Task dirs go under $XDG_DATA_HOME/<agent>: keep them in the sandbox.
beforeAll(() => {
  savedDataHome = process.env.XDG_DATA_HOME;
});
afterAll(() => {
  if (savedDataHome === undefined) delete process.env.XDG_DATA_HOME;
  else process.env.XDG_DATA_HOME = savedDataHome;
});
beforeEach(async () => {
  sandbox = await createCliSandbox();
  process.env.XDG_DATA_HOME = join(sandbox.root, "data");
});
afterEach(async () => {
  await sandbox.cleanup();
});

async function run(scenario: string, ...args: string[]) {
  const io = sandbox.io();
  const code = await runCli(adapter, ["run", "do the thing", "--env", `OPTIO_SCENARIO=${scenario}`, ...args], io, {
    bin: "optio-scripted",
  });
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

async function filesUnder(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await filesUnder(join(dir, entry.name), rel)));
    else out.push(rel);
  }
  return out.sort();
}

describe("optio CLI run (scripted agent)", () => {
  it("happy: exits 0, prints the terminal URL and STATUS lines with a percent", async () => {
    const result = await run("happy", "--process-id", "cli-happy");
    expect(result.stderr).not.toMatch(/error:/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Starting .* task cli-happy on this machine/m);
    expect(result.stdout).toMatch(/^Terminal: http:\/\/127\.0\.0\.1:\d+\//m);
    expect(result.stdout).toMatch(/^STATUS \[ *\d{1,3}%\] \S/m);
    expect(result.stdout).toMatch(/^Done/m);
  });

  it("error: exits 1 and says why on stderr", async () => {
    const result = await run("error", "--process-id", "cli-error");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^optio-scripted: task failed: \S/m);
  });

  it("--json: stdout is only JSON lines, progress events included, ending with the outcome", async () => {
    const result = await run("happy", "--process-id", "cli-json", "--json");
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    const objects = lines.map((line) => JSON.parse(line) as { type: string; [key: string]: unknown });
    expect(objects.some((o) => o.type === "progress" && typeof o.percent === "number")).toBe(true);
    expect(objects.some((o) => o.type === "widget")).toBe(true);
    const last = objects.at(-1);
    expect(last).toMatchObject({ type: "outcome", outcome: { status: "done" }, processId: "cli-json" });
    expect(objects.filter((o) => o.type === "outcome")).toHaveLength(1);
    expect(last?.deliverables).toEqual([]);
    expect(result.stderr).toMatch(/^Starting .* task cli-json/m);
  });

  it("deliverables land under ./deliverables/<processId>/ with their relative paths", async () => {
    const result = await run("deliverable", "--process-id", "cli-deliv");
    expect(result.code).toBe(0);
    const dir = join(sandbox.cwd, "deliverables", "cli-deliv");
    const files = await filesUnder(dir);
    expect(files).toEqual(["report.md"]);
    expect(await readFile(join(dir, "report.md"), "utf8")).toBe("# Report\n\nAll good.\n");
    for (const file of files) {
      expect(result.stdout).toContain(`Deliverable saved: ${join("deliverables", "cli-deliv", file)}`);
      expect((await stat(join(dir, file))).isFile()).toBe(true);
      expect((await readFile(join(dir, file), "utf8")).length).toBeGreaterThan(0);
    }
  });
});
