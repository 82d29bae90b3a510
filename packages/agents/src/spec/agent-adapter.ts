import type { Host } from "@optio/host";
import type * as z from "zod/mini";
import type { AgentTaskConfig } from "./config.js";
import type { AgentStateSource } from "./agent-state.js";
import type { AgentKey } from "./agent-keys.js";
import type { UsageSource } from "./usage.js";
import type { HookContext } from "./hook-context.js";
import type { BrowserMode } from "./browser-mode.js";

/** What an adapter's install, plant and resume checks get to work with. */
export interface AdapterContext {
  readonly host: Host;
  /** Progress reporting, downloads and file copies on the host. */
  readonly hook: HookContext;
  /** Absolute `<workdir>`. */
  readonly workdir: string;
  /** Absolute `<workdir>/home`: the agent's HOME. */
  readonly home: string;
  readonly signal: AbortSignal;
}

/** The agent's executable on the host, as `install` found or placed it. */
export interface InstalledAgent {
  /** Absolute path of the agent's executable on the host. */
  binaryPath: string;
  version?: string;
}

/** What the session knows when it asks the adapter for a command line. */
export interface LaunchInfo {
  readonly workdir: string;
  readonly home: string;
  readonly binaryPath: string;
  /** A snapshot was restored and the adapter's canContinue said yes. */
  readonly continueConversation: boolean;
  /** The agent will run as uid 0 on the host. */
  readonly asRoot: boolean;
  /**
   * The message the agent acts on by itself as it starts (the kickoff, or a
   * resume notice), or undefined to leave it waiting for a person. The session
   * decides when there is one; the adapter puts it where its agent takes a
   * first message (claude: a positional prompt).
   */
  readonly firstMessage?: string;
}

/** The command line the session runs the agent with, in tmux. */
export interface AgentCommand {
  /** argv[0] is the executable. */
  argv: string[];
  /** Added to the agent's environment (after HOME, PATH and credential scrubbing). */
  env: Record<string, string>;
  /** Directories put first on PATH. */
  pathPrepend?: string[];
  /** Decisions the user should know about (e.g. a safety switch turned on); reported as `info`. */
  notices?: string[];
}

/** What of the agent's state a snapshot keeps, and whether a restored session can continue. */
export interface ResumeSpec {
  /**
   * Workdir-relative patterns under `home/` holding the agent's private state (credentials, transcripts): snapshotted
   * apart and encrypted. A plain path takes its whole tree; `*` and `?` match within one name (`home/.foo/*.db`), a
   * `**` segment any number of folders; a leading `!` leaves its matches out of the private blob, whatever the order
   * (they stay with the workdir). A pattern outside `home/` fails the task's creation with ResumePathError.
   */
  readonly privatePaths: readonly string[];
  /** Workdir-relative paths that are regenerable weight (binaries, caches): never snapshotted. */
  readonly regenerablePaths?: readonly string[];
  /** After a restore and the install (the agent's binary is in place): can the agent continue its last conversation? */
  canContinue(ctx: AdapterContext): Promise<boolean>;
}

/** What a seed of this agent carries (a login, settings, plugins) into a fresh workdir. */
export interface SeedManifest {
  /** Workdir-relative paths under `home/` that make up a seed (a login, settings, plugins), as `privatePaths` are written. */
  readonly include: readonly string[];
  /** Runs after a seed was merged into a fresh workdir (e.g. re-key per-project state). */
  consume?(ctx: AdapterContext): Promise<void>;
}

/**
 * The contract every agent adapter implements. Everything not here (the
 * tmux launch, the protocol, terminals, snapshots, seeds) is generic and
 * lives in `runAgentSession`.
 */
export interface AgentAdapterV1<C extends AgentTaskConfig = AgentTaskConfig> {
  readonly specificationVersion: "agent-v1";
  /** Stable id, e.g. "claudecode"; also the task-dir consumer name. */
  readonly id: string;
  readonly displayName: string;
  readonly configSchema: z.core.$ZodType<C>;
  /** The instructions file the agent reads natively, relative to the workdir. */
  readonly instructionsFile: string;
  readonly browser: BrowserMode;
  /** Returns the agent's binary, installing it when allowed and missing. */
  install(ctx: AdapterContext, config: C): Promise<InstalledAgent>;
  /** Writes the agent's per-task state under HOME on a fresh start. */
  plant(ctx: AdapterContext, config: C): Promise<void>;
  /**
   * Runs on every start, fresh or resumed: after `plant` or the restore, once
   * the binary is installed, before `canContinue` and the launch (not for an
   * adopted agent, which already runs). For what the agent needs and a
   * restore does not bring back, such as a dir under a regenerable path.
   */
  prepare?(ctx: AdapterContext, config: C): Promise<void>;
  command(config: C, launch: LaunchInfo): AgentCommand;
  readonly resume: ResumeSpec;
  /** False when the agent cannot take a first message on its command line while it continues a conversation (opencode's `--prompt` is ignored with `--continue`); the session then types it once `promptReady` matches, or sends none. Default true. */
  readonly firstMessageOnContinue?: boolean;
  /** What the agent's screen shows once it takes typed input: where a first message the command line cannot carry is typed. */
  readonly promptReady?: RegExp;
  readonly seed?: SeedManifest;
  /**
   * How the agent reports what it is doing. Its hooks (planted by `plant`)
   * append to the file named by `$OPTIO_AGENT_STATE_FILE`; without a source
   * the task reports only `starting` and `exited`.
   */
  readonly agentState?: AgentStateSource;
  /**
   * The keys (for `sendKeys`) that answer the agent's permission prompt:
   * `approve` lets the waiting tool call run once, `deny` refuses it. Data, so
   * a dashboard or job runner can offer Approve / Deny for any agent.
   */
  readonly permissionKeys?: PermissionKeys;
  /** Where the agent records each model turn's tokens (and cost); without a source the task reports no usage. */
  readonly usage?: UsageSource;
}

/** The keys that answer the agent's permission prompt. */
export interface PermissionKeys {
  readonly approve: readonly AgentKey[];
  readonly deny: readonly AgentKey[];
}

/** The contract's current version: what adapters implement and runAgentSession accepts. */
export type AgentAdapter<C extends AgentTaskConfig = AgentTaskConfig> = AgentAdapterV1<C>;

/** The options every adapter's factory takes (`createFoo(options)`). */
export interface AgentAdapterOptions {
  /** What happens when the agent opens a browser (a login URL). Default `redirect`: the URL goes to the task context. */
  browser?: BrowserMode;
}

/** What an adapter answers for its own agent: the contract less what `defineAgentAdapter` fills in. */
export type AgentAdapterParts<C extends AgentTaskConfig = AgentTaskConfig> = Omit<
  AgentAdapter<C>,
  "specificationVersion" | "browser"
>;

/**
 * An adapter of the contract's current version from its agent's parts and the
 * options every factory takes, so each adapter's factory is one line over a
 * constant and the defaults are the same for all.
 */
export function defineAgentAdapter<C extends AgentTaskConfig>(
  parts: AgentAdapterParts<C>,
  options: AgentAdapterOptions = {},
): AgentAdapter<C> {
  return { ...parts, specificationVersion: "agent-v1", browser: options.browser ?? "redirect" };
}
