// The root entry: what someone embedding optio or writing an adapter uses. The
// web terminal, the CLI runner, the installers and the store helpers are behind
// their subpaths (`/terminal`, `/cli`, `/install`, `/store`); test helpers are in
// `/testing`. Everything else is internal.

// Running a task.
export { runTask, type RunTaskOptions, type TaskRun } from "./task/run-task.js";
export { createAgentTask, type AgentTask, type AgentTaskOptions } from "./task/agent-task.js";
export { runAgentSession, type RunAgentSessionOptions } from "./session/run-agent-session.js";
export type { ReportLevel, Task, TaskContext, TaskEvent, TaskOutcome, Widget } from "./spec/task-context.js";
export type { AgentDriver, HookContext } from "./spec/hook-context.js";
export { AGENT_KEYS, type AgentKey } from "./spec/agent-keys.js";
export type { AgentState, AgentStateChange } from "./spec/agent-state.js";
export type { UsageReport, UsageTotals } from "./spec/usage.js";

// The config every adapter's schema extends.
export {
  agentTaskConfigSchema,
  credentialFileBytes,
  credentialFileSchema,
  defineAgentConfigSchema,
  jsonObjectSchema,
  parseAgentConfig,
  type AgentTaskConfig,
  type AgentTaskConfigInput,
  type DeliverableCallback,
  type HookCallback,
} from "./spec/config.js";

// Where snapshots and seeds live.
export type { BlobSource, SeedRecord, SnapshotRecord, StateStore, SweepBlobsOptions } from "./spec/state-store.js";
export { FileStateStore, type FileStateStoreOptions } from "./store/file-state-store.js";
export { deleteSeed, listSeeds } from "./seeds/seeds.js";

// The adapter contract.
export {
  defineAgentAdapter,
  type AdapterContext,
  type AgentAdapter,
  type AgentAdapterOptions,
  type AgentAdapterParts,
  type AgentAdapterV1,
  type AgentCommand,
  type InstalledAgent,
  type LaunchInfo,
  type PermissionKeys,
  type ResumeSpec,
  type SeedManifest,
} from "./spec/agent-adapter.js";
export type { BrowserMode } from "./spec/browser-mode.js";
export { AGENT_STATE_FILE_ENV, type AgentStateSource, type HookStateChange } from "./spec/agent-state.js";
export type {
  UsageCommandSource,
  UsageFileSource,
  UsageLocation,
  UsageRecord,
  UsageSource,
} from "./spec/usage.js";
export {
  installAgent,
  installerFor,
  versionOutput,
  type AgentInstallDescription,
} from "./install/install-description.js";
export { packagePerPlatform, type RegistryPackageSpec } from "./install/registry-package.js";
export type { HostPlatform } from "./install/host-platform.js";
export { readAgentFile } from "./protocol/read-agent-file.js";
export { hasFileUnder, type FileUnderQuery } from "./resume/has-file-under.js";

// The errors a task's outcome or a store can carry (installing's are in `/install`).
export {
  InvalidStateIdError,
  InvalidStateRecordError,
  StateCorruptError,
  StateNotFoundError,
  StateWriteError,
  TaskReleasedError,
} from "./spec/errors.js";
export {
  DecryptMissingError,
  ResumePathError,
  SeedContentError,
  SeedError,
  SnapshotDecryptError,
  SnapshotError,
  SnapshotRestoreError,
  UnknownSeedError,
} from "./resume/resume-errors.js";
export { AgentNotRunningError } from "./session/create-hook-context.js";
export { UnsupportedKeyError } from "./spec/agent-keys.js";
