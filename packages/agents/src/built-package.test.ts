import { importWithout } from "@optio/host/testing";
import { describe, expect, it } from "vitest";
import { builtExports } from "./testing/built-exports.js";

const dist = (file: string) => new URL(`../dist/${file}`, import.meta.url);

describe("the built package", () => {
  it("validates configs and terminal messages without loading the zod package", async () => {
    const check = `
      const config = m.parseAgentConfig(m.agentTaskConfigSchema, { ssh: { host: "h", username: "u" } });
      if (config.ssh.port !== 22 || config.terminal.backend !== "builtin") throw new Error("defaults missing: " + JSON.stringify(config));
      try {
        m.parseAgentConfig(m.agentTaskConfigSchema, { env: { "BAD NAME": "x" }, ssh: { host: "h", username: "u", port: 0 }, beforeExecute: 1 });
        throw new Error("a bad config was accepted");
      } catch (error) {
        for (const part of ["config.env.BAD NAME", "config.ssh.port: Too small", "config.beforeExecute: beforeExecute must be a function"]) {
          if (!error.message.includes(part)) throw new Error("missing " + part + " in: " + error.message);
        }
      }`;
    await importWithout("zod", dist("index.js"), check);
  });
});

describe("the built vitest preset", () => {
  it("is reachable as @optio/agents/vitest and loads neither vitest nor zod", async () => {
    const check = `
      const t = m.adapterVitestPreset.test;
      if (t.testTimeout !== 60000 || t.hookTimeout !== 120000 || t.fileParallelism !== false || t.include[0] !== "src/**/*.test.ts") throw new Error("preset: " + JSON.stringify(t));`;
    await importWithout("vitest", new URL(import.meta.resolve("@optio/agents/vitest")), check);
  });
});

// The curated entries: a name missing here, or one exported that is not, fails.
const INDEX_EXPORTS = [
  "AGENT_KEYS",
  "AGENT_STATE_FILE_ENV",
  "AdapterContext",
  "AgentAdapter",
  "AgentAdapterOptions",
  "AgentAdapterParts",
  "AgentAdapterV1",
  "AgentCommand",
  "AgentDriver",
  "AgentInstallDescription",
  "AgentKey",
  "AgentNotRunningError",
  "AgentState",
  "AgentStateChange",
  "AgentStateSource",
  "AgentTask",
  "AgentTaskConfig",
  "AgentTaskConfigInput",
  "AgentTaskOptions",
  "BlobSource",
  "BrowserMode",
  "DecryptMissingError",
  "DeliverableCallback",
  "FileStateStore",
  "FileStateStoreOptions",
  "FileUnderQuery",
  "HookCallback",
  "HookContext",
  "HookStateChange",
  "HostPlatform",
  "InstalledAgent",
  "InvalidStateIdError",
  "InvalidStateRecordError",
  "LaunchInfo",
  "PermissionKeys",
  "RegistryPackageSpec",
  "ReportLevel",
  "ResumePathError",
  "ResumeSpec",
  "RunAgentSessionOptions",
  "RunTaskOptions",
  "SeedContentError",
  "SeedError",
  "SeedManifest",
  "SeedRecord",
  "SnapshotDecryptError",
  "SnapshotError",
  "SnapshotRecord",
  "SnapshotRestoreError",
  "StateCorruptError",
  "StateNotFoundError",
  "StateStore",
  "StateWriteError",
  "SweepBlobsOptions",
  "Task",
  "TaskContext",
  "TaskEvent",
  "TaskOutcome",
  "TaskReleasedError",
  "TaskRun",
  "UnknownSeedError",
  "UnsupportedKeyError",
  "UsageCommandSource",
  "UsageFileSource",
  "UsageLocation",
  "UsageRecord",
  "UsageReport",
  "UsageSource",
  "UsageTotals",
  "Widget",
  "agentTaskConfigSchema",
  "createAgentTask",
  "credentialFileBytes",
  "credentialFileSchema",
  "defineAgentAdapter",
  "defineAgentConfigSchema",
  "deleteSeed",
  "hasFileUnder",
  "installAgent",
  "installerFor",
  "jsonObjectSchema",
  "listSeeds",
  "packagePerPlatform",
  "parseAgentConfig",
  "readAgentFile",
  "runAgentSession",
  "runTask",
  "versionOutput",
];
const TERMINAL_EXPORTS = [
  "PublishOptions",
  "PublishedTerminal",
  "TerminalServer",
  "TerminalServerOptions",
  "TerminalTarget",
  "TmuxMissingError",
  "TmuxSession",
  "closeSharedTerminalServer",
  "publishTerminal",
  "readScreen",
  "sharedTerminalServer",
  "startTmuxSession",
  "stopTmuxSession",
];
const CLI_EXPORTS = [
  "CliExtraOption",
  "CliIo",
  "CliOptionSpec",
  "CliOptionValue",
  "CliUsageError",
  "RunCliOptions",
  "TaskSessionInfo",
  "TaskSessionsOptions",
  "endTaskSession",
  "listTaskSessions",
  "runCli",
];
const INSTALL_EXPORTS = [
  "AgentBinarySpec",
  "AgentInstallError",
  "AgentInstallStrategy",
  "AgentNotInstalledError",
  "InstallContext",
  "IntegrityMismatchError",
  "InvalidRegistrySpecError",
  "PackageFetchError",
  "RegistryInstallResult",
  "ResolvedRegistryPackage",
  "UnsupportedPlatformError",
  "VendorScriptError",
  "VendorScriptOptions",
  "detectHostPlatform",
  "installAgentBinary",
  "installFromRegistry",
  "installViaVendorScript",
  "resolveRegistryPackage",
  "workerTarballCacheDir",
];
const STORE_EXPORTS = [
  "checkKeepCount",
  "checkSeedInput",
  "checkSnapshotInput",
  "checkStateId",
  "checkSweepOptions",
  "forEachBlock",
  "newStateId",
];

describe("the built entry points", () => {
  it("index exports the root: what running a task and writing an adapter use, nothing else", async () => {
    expect(await builtExports(dist("index.js"))).toEqual(INDEX_EXPORTS);
  });

  it("terminal exports /terminal: the web terminal and its tmux session, nothing else", async () => {
    expect(await builtExports(dist("terminal.js"))).toEqual(TERMINAL_EXPORTS);
  });

  it("cli exports /cli: the runner and the task sessions it lists, nothing else", async () => {
    expect(await builtExports(dist("cli.js"))).toEqual(CLI_EXPORTS);
  });

  it("install exports /install: the install layers and their errors, nothing else", async () => {
    expect(await builtExports(dist("install.js"))).toEqual(INSTALL_EXPORTS);
  });

  it("store exports /store: what a StateStore implementation shares, nothing else", async () => {
    expect(await builtExports(dist("store.js"))).toEqual(STORE_EXPORTS);
  });
});
