import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createScriptedAdapter } from "../testing.js";
import { defineAgentConfigSchema } from "../spec/config.js";
import { FileStateStore } from "../store/file-state-store.js";
import { runOptionSpecs, seedsListOptionSpecs } from "./cli-options.js";
import { defaultProcessId, parseEnvFlags, runCli } from "./run-cli.js";
import { type CliSandbox, createCliSandbox } from "./test-fixtures/cli-harness.js";

let sandbox: CliSandbox;
beforeEach(async () => {
  sandbox = await createCliSandbox();
});
afterEach(async () => {
  await sandbox.cleanup();
});

const adapter = createScriptedAdapter();

async function cli(argv: string[], stdinText?: string) {
  const io = sandbox.io(stdinText);
  const code = await runCli(adapter, argv, io, { bin: "optio-x", version: "1.2.3" });
  return { code, stdout: io.stdout.text, stderr: io.stderr.text, stderrLines: io.stderr.lines };
}

describe("runCli argument errors", () => {
  it.each([
    [["run", "--no-such-flag"], /unknown option '--no-such-flag'/],
    [["run", "--ssh", "no-at-sign"], /--ssh must look like user@host/],
    [["run", "--ssh", "u@h:99999"], /--ssh port must be 1–65535/],
    [["run", "--env", "NOEQUALS"], /--env must look like NAME=VALUE/],
    [["run", "--env", "1BAD=x"], /--env name "1BAD" is not a valid variable name/],
    [
      ["run", "--ssh", "u@h", "--known-hosts", "kh", "--host-fingerprint", `SHA256:${"A".repeat(43)}`],
      /--known-hosts and --host-fingerprint cannot be used together/,
    ],
    [["run", "--identity", "key"], /--identity only makes sense with --ssh/],
    [["run", "--ssh", "u@h", "--host-fingerprint", "MD5:aa"], /invalid configuration at ssh.hostFingerprint/],
    [["run", "--process-id", "../escape"], /--process-id may hold only/],
    [["run", "--resume"], /--resume needs --process-id/],
    [["run", "one", "two"], /expected one instructions argument/],
    [["run", "--instructions-file", "missing.md"], /cannot read --instructions-file missing.md/],
    [["run", "--ssh"], /option '--ssh <value>' argument missing/],
    [["run", "--json=yes"], /option '--json' does not take an argument/],
    [["run", "--permission-mode", "plan"], /unknown option '--permission-mode'/],
    [["frobnicate"], /unknown command "frobnicate"/],
    [[], /missing command/],
    [["seeds"], /seeds needs a subcommand/],
    [["seeds", "delete"], /seeds delete takes exactly one seed id/],
    [["seeds", "list", "--nope"], /unknown option '--nope'/],
  ])("%j exits 2 with one line on stderr", async (argv, pattern) => {
    const result = await cli(argv);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderrLines).toHaveLength(1);
    expect(result.stderrLines[0]).toMatch(/^optio-x: /);
    expect(result.stderrLines[0]).toMatch(pattern);
  });

  it("refuses instructions given twice", async () => {
    await writeFile(join(sandbox.cwd, "task.md"), "do it");
    const result = await cli(["run", "inline", "--instructions-file", "task.md"]);
    expect(result.code).toBe(2);
    expect(result.stderrLines).toEqual([
      expect.stringMatching(/either as an argument or with --instructions-file, not both/),
    ]);
  });

  it("validates adapter-specific values through the adapter's schema", async () => {
    const withMode = {
      ...adapter,
      configSchema: defineAgentConfigSchema({ permissionMode: z.enum(["default", "plan"]).optional() }),
    };
    const io = sandbox.io();
    const code = await runCli(withMode, ["run", "--permission-mode", "yolo"], io, { bin: "optio-x" });
    expect(code).toBe(2);
    expect(io.stderr.lines).toEqual([expect.stringMatching(/^optio-x: invalid configuration at permissionMode: /)]);
  });
});

describe("runCli help and version", () => {
  it("--help documents every command and option", async () => {
    const result = await cli(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    for (const command of ["run [INSTRUCTIONS]", "seeds list", "seeds delete ID", "--version"])
      expect(result.stdout).toContain(command);
    for (const spec of [...runOptionSpecs, ...seedsListOptionSpecs]) {
      expect(result.stdout).toContain(`--${spec.name}`);
      expect(result.stdout).toContain(spec.description);
    }
    expect(result.stdout).not.toContain("--permission-mode");
  });

  it("run --help documents the run options, and -h works too", async () => {
    for (const argv of [
      ["run", "--help"],
      ["run", "-h"],
    ]) {
      const result = await cli(argv);
      expect(result.code).toBe(0);
      for (const spec of runOptionSpecs) expect(result.stdout).toContain(`--${spec.name}`);
    }
  });

  it("offers --permission-mode (with its values) when the config schema has the field, and extra options from the bin", async () => {
    const withMode = {
      ...adapter,
      configSchema: defineAgentConfigSchema({
        permissionMode: z.enum(["default", "plan"]).optional(),
        tools: z.array(z.string()).default([]),
      }),
    };
    const io = sandbox.io();
    const extra = {
      name: "tool",
      type: "string" as const,
      multiple: true,
      valueName: "NAME",
      description: "Allow a tool (repeatable).",
      apply: (config: Record<string, unknown>, value: unknown) => {
        config.tools = value;
      },
    };
    expect(await runCli(withMode, ["run", "--help"], io, { extraOptions: [extra] })).toBe(0);
    expect(io.stdout.text).toContain("--permission-mode MODE");
    expect(io.stdout.text).toContain("default, plan");
    expect(io.stdout.text).toContain("--tool NAME");
    expect(io.stdout.text).toContain("Allow a tool (repeatable).");
  });

  it("--version prints the version", async () => {
    const result = await cli(["--version"]);
    expect(result).toMatchObject({ code: 0, stdout: "1.2.3\n", stderr: "" });
  });
});

describe("runCli seeds", () => {
  it("lists and deletes this agent's seeds only", async () => {
    const store = new FileStateStore({ dir: sandbox.stateDir });
    const blobId = await store.putBlob(new Uint8Array([1, 2, 3]));
    const mine = await store.insertSeed({
      agent: adapter.id,
      createdAt: "2026-01-02T03:04:05.000Z",
      blobId,
      encrypted: false,
      sourceProcessId: "p-1",
    });
    const other = await store.insertSeed({
      agent: `${adapter.id}-other`,
      createdAt: "2026-01-02T03:04:05.000Z",
      blobId,
      encrypted: false,
      sourceProcessId: "p-2",
    });

    const listed = await cli(["seeds", "list"]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(mine.id);
    expect(listed.stdout).toContain("from p-1");
    expect(listed.stdout).not.toContain(other.id);

    const json = await cli(["seeds", "list", "--json"]);
    expect(
      json.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line)),
    ).toEqual([mine]);

    const refused = await cli(["seeds", "delete", other.id]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`no ${adapter.id} seed with id ${other.id}`);
    expect(await store.getSeed(other.id)).not.toBeNull();

    const deleted = await cli(["seeds", "delete", mine.id]);
    expect(deleted).toMatchObject({ code: 0, stdout: `Deleted seed ${mine.id}.\n` });
    expect(await store.getSeed(mine.id)).toBeNull();
    expect((await cli(["seeds", "list"])).stdout).toBe(`No seeds saved for ${adapter.id}.\n`);
  });
});

describe("helpers", () => {
  it("defaultProcessId is <agent>-<UTC timestamp> and a safe process id", () => {
    expect(defaultProcessId("claudecode", new Date("2026-03-04T05:06:07.890Z"))).toBe("claudecode-20260304-050607");
  });

  it("parseEnvFlags keeps everything after the first =", () => {
    expect(parseEnvFlags(["A=1", "B=x=y", "C="])).toEqual({ A: "1", B: "x=y", C: "" });
  });
});
