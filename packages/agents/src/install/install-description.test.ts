import { mkdir, mkdtemp, readFile, realpath, rm } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { LocalHost, OptioConfigError, shellQuote, type Host } from "@optio/host";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AdapterContext } from "../spec/agent-adapter.js";
import { parseAgentConfig, agentTaskConfigSchema } from "../spec/config.js";
import type { HookContext } from "../spec/hook-context.js";
import { installAgent, installerFor, versionOutput, type AgentInstallDescription } from "./install-description.js";
import { AgentInstallError } from "./install-errors.js";
import { startStaticServer, type StaticServer } from "./test-registry.js";

const TOOL = '#!/bin/sh\n[ "$1" = --version ] && { echo "7.8.9 (Tool)"; exit 0; }\nexit 1\n';

let root: string;
let host: Host;
let ctx: AdapterContext;
let server: StaticServer;
let progress: string[];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "optio-install-description-"));
  host = new LocalHost({
    consumer: "installtest",
    processId: "p1",
    env: { INSTALLTEST_TASK_ROOT: join(root, "tasks") },
  });
  await host.connect();
  server = await startStaticServer();
  progress = [];
  const signal = new AbortController().signal;
  const home = join(root, "home");
  await mkdir(home, { recursive: true });
  const hook = {
    host,
    signal,
    reportProgress: (_p: number | null, m?: string) => progress.push(m ?? ""),
  } as unknown as HookContext;
  ctx = { host, hook, workdir: root, home, signal };
});
afterEach(async () => {
  await server.close();
  await host.disconnect();
  await rm(root, { recursive: true, force: true });
});

/** A vendor script that writes the tool to `dest` and records the variable TOOL_DIR it was given. */
function vendorScript(dest: string): string {
  return [
    `mkdir -p ${shellQuote(join(dest, ".."))}`,
    `printf '%s' ${shellQuote(TOOL)} > ${shellQuote(dest)}`,
    `chmod 755 ${shellQuote(dest)}`,
    `printf '%s' "\${TOOL_DIR:-unset}" > ${shellQuote(join(root, "script-env"))}`,
  ].join("\n");
}

const tool = (overrides: Partial<AgentInstallDescription> = {}): AgentInstallDescription => ({
  name: "tool",
  binaryName: "tool",
  defaultStrategies: ["vendor-script"],
  vendorScript: { url: `${server.url}/default.sh`, env: (target) => ({ TOOL_DIR: join(target, "..") }) },
  probe: async (c, path) => {
    const output = await versionOutput(c.host, path, {});
    return output?.includes("(Tool)") ? (output.split(" ")[0] ?? "") : null;
  },
  ...overrides,
});

const settings = (input: Record<string, unknown>) => parseAgentConfig(agentTaskConfigSchema, input);

describe("installAgent", () => {
  it("runs the adapter's default strategy and script, given the install dir, when the config names none", async () => {
    const bin = join(root, "bin");
    server.route("/default.sh", 200, vendorScript(join(bin, "tool")));
    const installed = await installAgent(ctx, settings({ installDir: bin }), tool());
    expect(installed).toEqual({ binaryPath: join(bin, "tool"), version: "7.8.9" });
    expect(server.hits.get("/default.sh")).toBe(1);
    expect(await readFile(join(root, "script-env"), "utf8")).toBe(bin);
    expect(await realpath(join(ctx.home, ".local/bin/tool"))).toBe(join(bin, "tool"));
  });

  it("takes the script URL from the config over the adapter's", async () => {
    const bin = join(root, "bin");
    server.route("/mine.sh", 200, vendorScript(join(bin, "tool")));
    await installAgent(ctx, settings({ installDir: bin, vendorScriptUrl: `${server.url}/mine.sh` }), tool());
    expect(server.hits.get("/mine.sh")).toBe(1);
    expect(server.hits.get("/default.sh")).toBeUndefined();
  });

  it("links the binary from where a script that ignores the install dir put it", async () => {
    const bin = join(root, "bin");
    const elsewhere = join(root, "vendor-place", "tool");
    server.route("/default.sh", 200, vendorScript(elsewhere));
    const installed = await installAgent(
      ctx,
      settings({ installDir: bin }),
      tool({ vendorScript: { url: `${server.url}/default.sh`, installsTo: elsewhere } }),
    );
    expect(installed.binaryPath).toBe(join(bin, "tool"));
    expect(await realpath(join(bin, "tool"))).toBe(elsewhere);
  });

  it("refuses a strategy the agent has no description for before running anything", async () => {
    const error = await installAgent(
      ctx,
      settings({ installDir: join(root, "bin"), installStrategies: ["npm-registry", "vendor-script"] }),
      tool(),
    ).catch((e: unknown) => e);
    expect(OptioConfigError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain("config.installStrategies");
    expect((error as Error).message).toContain("npm registry");
    expect(server.hits.size).toBe(0);
  });

  it("tries the config's strategies in its order and lists every failure", async () => {
    server.route("/default.sh", 500, "no");
    const registry = { agent: "tool", packageName: "tool-pkg", binaryInPackage: "tool" };
    const error = await installAgent(
      ctx,
      settings({
        installDir: join(root, "bin"),
        installStrategies: ["vendor-script", "npm-registry"],
        registry: server.url,
        installCacheDir: join(root, "cache"),
      }),
      tool({ registryPackage: registry }),
    ).catch((e: unknown) => e);
    expect(AgentInstallError.isInstance(error)).toBe(true);
    expect((error as AgentInstallError).attempts.map((a) => a.strategy)).toEqual(["vendor-script", "npm-registry"]);
    expect(server.hits.get("/default.sh")).toBe(1);
    expect(server.hits.get("/tool-pkg")).toBe(1);
  });

  it("looks in ~/.local/bin when the config names no install dir", async () => {
    const error = await installAgent(ctx, settings({ installIfMissing: false }), tool()).catch((e: unknown) => e);
    expect((error as Error).message).toContain(`${join(homedir(), ".local/bin/tool")} and installIfMissing is false`);
    expect(server.hits.size).toBe(0);
  });
});

describe("versionOutput and installerFor", () => {
  it("reads --version only from an executable that exits 0, with the env given", async () => {
    const dir = join(root, "tools");
    await mkdir(dir, { recursive: true });
    const write = (name: string, body: string) =>
      host.runChecked(
        `printf '%s' ${shellQuote(body)} > ${shellQuote(join(dir, name))} && chmod 755 ${shellQuote(join(dir, name))}`,
      );
    await write("good", '#!/bin/sh\necho "  $GREETING 1.2.3  "\n');
    await write("bad", "#!/bin/sh\necho 1.0; exit 3\n");
    expect(await versionOutput(host, join(dir, "good"), { GREETING: "hello" })).toBe("hello 1.2.3");
    expect(await versionOutput(host, join(dir, "bad"), {})).toBeNull();
    expect(await versionOutput(host, join(dir, "missing"), {})).toBeNull();
  });

  it("gives the adapter an install that runs installAgent with the task's settings", async () => {
    const bin = join(root, "bin");
    server.route("/default.sh", 200, vendorScript(join(bin, "tool")));
    const installed = await installerFor(tool())(ctx, settings({ installDir: bin }));
    expect(installed).toMatchObject({ binaryPath: join(bin, "tool"), version: "7.8.9" });
  });
});
