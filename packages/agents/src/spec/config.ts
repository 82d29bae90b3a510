import { DEFAULT_RESTORE_MAX_BYTES, DEFAULT_RESTORE_MAX_ENTRIES, OptioConfigError } from "@optio/host";
import { sshConfigSchema } from "@optio/host/ssh-config";
import * as z from "zod/mini";
import type { HookContext } from "./hook-context.js";
import { bareOrigin } from "./origin.js";
import "./zod-locale.js";

/** The ways an agent's binary gets onto the host: its platform package from the npm registry, or the vendor's install script. */
export const INSTALL_STRATEGIES = ["npm-registry", "vendor-script"] as const;
export type InstallStrategyName = (typeof INSTALL_STRATEGIES)[number];

/** What a deliverable may weigh unless `maxDeliverableBytes` says otherwise. */
export const DEFAULT_MAX_DELIVERABLE_BYTES = 16 * 1024 * 1024;

const fn = <F extends (...args: never[]) => unknown>(what: string) =>
  z.custom<F>((value) => typeof value === "function", { message: `${what} must be a function` });

type Awaitable<T> = T | Promise<T>;

/** A config hook (`beforeExecute`, `afterExecute`, …), called with the running task's HookContext. */
export type HookCallback = (ctx: HookContext) => Awaitable<void>;
/** Called with each deliverable the agent announced, once it is read. */
export type DeliverableCallback = (ctx: HookContext, path: string, text: string) => Awaitable<void>;
/** Bytes in, bytes out; the private blob is small (credentials, transcripts), so it is whole in memory. */
export type BlobTransform = (data: Uint8Array) => Awaitable<Uint8Array>;
export type SeedSavedCallback = (seedId: string) => Awaitable<void>;

/** A directory on the host: absolute, or under the host user's home (`~`, `~/…`). */
export const hostDirSchema = () =>
  z.string().check(z.refine((p) => p.startsWith("/") || p === "~" || p.startsWith("~/"), "must start with / or ~"));

/** A JSON object, as adapters take their agent's own settings files. */
export const jsonObjectSchema = () => z.record(z.string(), z.unknown());

/** A credentials file's content: an object (written as JSON), or a string or bytes written verbatim. */
export const credentialFileSchema = () => z.union([jsonObjectSchema(), z.string(), z.instanceof(Uint8Array)]);
export type CredentialFile = z.infer<ReturnType<typeof credentialFileSchema>>;

/** The bytes a credentials file is written with. */
export function credentialFileBytes(credentials: CredentialFile): string | Uint8Array {
  return typeof credentials === "string" || credentials instanceof Uint8Array
    ? credentials
    : JSON.stringify(credentials);
}

export const terminalOptionsSchema = z.strictObject({
  /** Viewers may only watch, never type. */
  readOnly: z._default(z.boolean(), false),
  /** Origins (scheme://host:port) allowed to open the terminal and to frame its page; the page's own origin is always allowed. */
  allowedOrigins: z._default(
    z.array(
      z
        .string()
        .check(z.refine((o) => bareOrigin(o) !== null, "must be a bare origin: http(s)://host[:port], no path")),
    ),
    [],
  ),
  /** `builtin` (xterm.js over a WebSocket) or `ttyd` (ttyd attached to the same tmux session). */
  backend: z._default(z.enum(["builtin", "ttyd"]), "builtin"),
  /** Install ttyd when the ttyd backend is chosen and it is missing. */
  installTtydIfMissing: z._default(z.boolean(), true),
  /** Directory holding (or receiving) ttyd; `~/.local/bin` by default. */
  ttydInstallDir: z.optional(z.string()),
  /** Most viewers at once (ttyd backend). */
  maxViewers: z._default(z.int().check(z.positive()), 8),
});

export type TerminalOptions = z.infer<typeof terminalOptionsSchema>;

/** The fields every agent's config shares, without cross-field checks. */
export const agentTaskConfigBase = z.strictObject({
  /** What the agent is asked to do, in the user's words. */
  consumerInstructions: z._default(z.string(), ""),
  /** Tell the agent to start on the instructions as it launches; default on when consumerInstructions is not empty. Off: it waits for a person. */
  autoStart: z.optional(z.boolean()),
  /** The first message of a fresh session that starts by itself; default: read the instructions file and do the task. */
  kickoffPrompt: z.optional(z.string().check(z.minLength(1))),
  /** The first message of a resumed session that continues its conversation; default: it was interrupted, continue where it stopped. */
  resumePrompt: z.optional(z.string().check(z.minLength(1))),
  /** Points the agent at another model API endpoint (a gateway, a proxy, a test stand-in); its key goes in `env`. */
  apiBaseUrl: z.optional(z.url()),
  /** Variables for the agent's environment; also the only way a credential variable (`*_API_KEY`, …) reaches it. */
  env: z._default(
    z.record(
      z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "not a valid variable name")),
      z.string().check(z.refine((v) => !v.includes("\0"), "must not contain a NUL byte")),
    ),
    {},
  ),
  /** Run on this SSH host instead of locally. */
  ssh: z.optional(sshConfigSchema),
  /** Install the agent when it is missing. */
  installIfMissing: z._default(z.boolean(), true),
  /** Where the agent's binary lives or is linked on the host; absolute or `~/…`, default `~/.local/bin`. */
  installDir: z.optional(hostDirSchema()),
  /** Install strategies in the order they are tried; default: the adapter's own order. */
  installStrategies: z.optional(z.array(z.enum(INSTALL_STRATEGIES)).check(z.minLength(1))),
  /** Pin the npm-registry install to this version of the agent; default the registry's latest. */
  agentVersion: z.optional(z.string().check(z.minLength(1))),
  /** Host dir of the shared binary cache (`<dir>/<version>/…`); absolute or `~/…`, default `~/.cache/optio/<agent>`. */
  installCacheDir: z.optional(hostDirSchema()),
  /** The npm registry the agent's package is fetched from. */
  registry: z._default(z.url(), "https://registry.npmjs.org"),
  /** The vendor install script (fetched and run on the host); default: the adapter's own. */
  vendorScriptUrl: z.optional(z.url()),
  /** Runs after the workdir is planted and before the agent starts; not again when a resume adopts a still-running agent. */
  beforeExecute: z.optional(fn<HookCallback>("beforeExecute")),
  /** Runs after the session ends, on every path. */
  afterExecute: z.optional(fn<HookCallback>("afterExecute")),
  /** Gets each deliverable's path (relative to deliverables/) and UTF-8 text. */
  onDeliverable: z.optional(fn<DeliverableCallback>("onDeliverable")),
  /** The largest deliverable handed to onDeliverable, in bytes (default 16 MiB); a larger one is skipped and reported. */
  maxDeliverableBytes: z._default(z.int().check(z.positive()), DEFAULT_MAX_DELIVERABLE_BYTES),
  /** Most bytes a restored snapshot or seed archive may unpack to (default 16 GiB); more fails the restore with RestoreLimitError, the workdir as it was. */
  restoreMaxBytes: z._default(z.int().check(z.positive()), DEFAULT_RESTORE_MAX_BYTES),
  /** Most entries a restored snapshot or seed archive may hold (default 1,000,000); more fails the restore with RestoreLimitError. */
  restoreMaxEntries: z._default(z.int().check(z.positive()), DEFAULT_RESTORE_MAX_ENTRIES),
  /** Take a snapshot at teardown so the session can be resumed. */
  supportsResume: z._default(z.boolean(), true),
  /** Patterns left out of the workdir snapshot; replaces the default list when given. */
  workdirExclude: z.optional(z.array(z.string())),
  /** Encrypts the private-state blob (credentials, transcripts). Set together with sessionBlobDecrypt. */
  sessionBlobEncrypt: z.optional(fn<BlobTransform>("sessionBlobEncrypt")),
  /** Decrypts what sessionBlobEncrypt produced. */
  sessionBlobDecrypt: z.optional(fn<BlobTransform>("sessionBlobDecrypt")),
  /** On resume, adopting a still-running agent included: returns the config to continue with (e.g. fresh instructions). */
  onResumeRefresh: z.optional(fn<(config: never) => Awaitable<unknown>>("onResumeRefresh")),
  /** Start from this seed (a saved login and settings). */
  seedId: z.optional(z.string().check(z.minLength(1))),
  /** Capture a seed at teardown of a fresh session and hand its id here. */
  onSeedSaved: z.optional(fn<SeedSavedCallback>("onSeedSaved")),
  /** The web terminal. */
  terminal: z._default(terminalOptionsSchema, () => z.parse(terminalOptionsSchema, {})),
});

function checkEncryptPair(
  config: { sessionBlobEncrypt?: unknown; sessionBlobDecrypt?: unknown },
  ctx: z.core.$RefinementCtx,
): void {
  if (Boolean(config.sessionBlobEncrypt) !== Boolean(config.sessionBlobDecrypt)) {
    ctx.addIssue({
      code: "custom",
      path: [config.sessionBlobEncrypt ? "sessionBlobDecrypt" : "sessionBlobEncrypt"],
      message: "sessionBlobEncrypt and sessionBlobDecrypt must be set together",
    });
  }
}

/** An adapter's config schema: the shared base plus the adapter's own fields, with the shared checks. */
export function defineAgentConfigSchema<S extends z.core.$ZodLooseShape>(shape: S) {
  return z.extend(agentTaskConfigBase, shape).check(z.superRefine(checkEncryptPair));
}

/** The shared base alone, for adapters with no fields of their own and for generic code. */
export const agentTaskConfigSchema = defineAgentConfigSchema({});

/** The parsed config every agent takes (an adapter's schema extends it). */
export type AgentTaskConfig = z.infer<typeof agentTaskConfigSchema>;
/** The config every agent takes, as a caller writes it (defaults not yet applied). */
export type AgentTaskConfigInput = z.input<typeof agentTaskConfigSchema>;

/** Validates an adapter config; a problem becomes an OptioConfigError naming each bad field. */
export function parseAgentConfig<C>(schema: z.core.$ZodType<C>, input: unknown, what = "config"): C {
  const result = z.safeParse(schema, input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? `${what}.${issue.path.map(String).join(".")}` : what;
    return `${field}: ${issue.message}`;
  });
  throw new OptioConfigError(`invalid ${what}: ${problems.join("; ")}`, { cause: result.error });
}
