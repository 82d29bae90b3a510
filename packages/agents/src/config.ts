import { OptioConfigError } from "@optio/host";
import { sshConfigSchema } from "@optio/host/ssh-config";
import { z } from "zod";
import type { HookContext } from "./session/hook-context.js";

const fn = <F extends (...args: never[]) => unknown>(what: string) =>
  z.custom<F>((value) => typeof value === "function", { message: `${what} must be a function` });

type Awaitable<T> = T | Promise<T>;

export type HookCallback = (ctx: HookContext) => Awaitable<void>;
export type DeliverableCallback = (ctx: HookContext, path: string, text: string) => Awaitable<void>;
/** Bytes in, bytes out; the private blob is small (credentials, transcripts), so it is whole in memory. */
export type BlobTransform = (data: Uint8Array) => Awaitable<Uint8Array>;
export type SeedSavedCallback = (seedId: string) => Awaitable<void>;

export const terminalOptionsSchema = z
  .object({
    /** Viewers may only watch, never type. */
    readOnly: z.boolean().default(false),
    /** Origins (scheme://host:port) allowed to open the terminal and to frame its page; the page's own origin is always allowed. */
    allowedOrigins: z.array(z.string().url()).default([]),
    /** `builtin` (xterm.js over a WebSocket) or `ttyd` (ttyd attached to the same tmux session). */
    backend: z.enum(["builtin", "ttyd"]).default("builtin"),
    /** Install ttyd when the ttyd backend is chosen and it is missing. */
    installTtydIfMissing: z.boolean().default(true),
    /** Directory holding (or receiving) ttyd; `~/.local/bin` by default. */
    ttydInstallDir: z.string().optional(),
    /** Most viewers at once (ttyd backend). */
    maxViewers: z.number().int().positive().default(8),
  })
  .strict();

export type TerminalOptions = z.infer<typeof terminalOptionsSchema>;

/** The fields every agent's config shares, without cross-field checks. */
export const agentTaskConfigBase = z
  .object({
    /** What the agent is asked to do, in the user's words. */
    consumerInstructions: z.string().default(""),
    /** Variables for the agent's environment; also the only way a credential variable (`*_API_KEY`, …) reaches it. */
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "not a valid variable name"), z.string()).default({}),
    /** Run on this SSH host instead of locally. */
    ssh: sshConfigSchema.optional(),
    /** Install the agent when it is missing. */
    installIfMissing: z.boolean().default(true),
    /** Where the agent's binary lives or is installed; absolute or `~/…`. */
    installDir: z
      .string()
      .refine((p) => p.startsWith("/") || p === "~" || p.startsWith("~/"), "must start with / or ~")
      .optional(),
    /** Runs after the workdir is planted and before the agent starts. */
    beforeExecute: fn<HookCallback>("beforeExecute").optional(),
    /** Runs after the session ends, on every path. */
    afterExecute: fn<HookCallback>("afterExecute").optional(),
    /** Gets each deliverable's path (relative to deliverables/) and UTF-8 text. */
    onDeliverable: fn<DeliverableCallback>("onDeliverable").optional(),
    /** Take a snapshot at teardown so the session can be resumed. */
    supportsResume: z.boolean().default(true),
    /** Patterns left out of the workdir snapshot; replaces the default list when given. */
    workdirExclude: z.array(z.string()).optional(),
    /** Encrypts the private-state blob (credentials, transcripts). Set together with sessionBlobDecrypt. */
    sessionBlobEncrypt: fn<BlobTransform>("sessionBlobEncrypt").optional(),
    /** Decrypts what sessionBlobEncrypt produced. */
    sessionBlobDecrypt: fn<BlobTransform>("sessionBlobDecrypt").optional(),
    /** On resume: returns the config to continue with (e.g. fresh instructions). */
    onResumeRefresh: fn<(config: never) => Awaitable<unknown>>("onResumeRefresh").optional(),
    /** Start from this seed (a saved login and settings). */
    seedId: z.string().min(1).optional(),
    /** Capture a seed at teardown of a fresh session and hand its id here. */
    onSeedSaved: fn<SeedSavedCallback>("onSeedSaved").optional(),
    /** The web terminal. */
    terminal: terminalOptionsSchema.default(() => terminalOptionsSchema.parse({})),
  })
  .strict();

function checkEncryptPair(config: { sessionBlobEncrypt?: unknown; sessionBlobDecrypt?: unknown }, ctx: z.RefinementCtx): void {
  if (Boolean(config.sessionBlobEncrypt) !== Boolean(config.sessionBlobDecrypt)) {
    ctx.addIssue({
      code: "custom",
      path: [config.sessionBlobEncrypt ? "sessionBlobDecrypt" : "sessionBlobEncrypt"],
      message: "sessionBlobEncrypt and sessionBlobDecrypt must be set together",
    });
  }
}

/** An adapter's config schema: the shared base plus the adapter's own fields, with the shared checks. */
export function defineAgentConfigSchema<S extends z.ZodRawShape>(shape: S) {
  return agentTaskConfigBase.extend(shape).superRefine(checkEncryptPair);
}

/** The shared base alone, for adapters with no fields of their own and for generic code. */
export const agentTaskConfigSchema = defineAgentConfigSchema({});

export type AgentTaskConfig = z.infer<typeof agentTaskConfigSchema>;
export type AgentTaskConfigInput = z.input<typeof agentTaskConfigSchema>;

/** Validates an adapter config; a problem becomes an OptioConfigError naming each bad field. */
export function parseAgentConfig<C>(schema: z.ZodType<C>, input: unknown, what = "config"): C {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? `${what}.${issue.path.map(String).join(".")}` : what;
    return `${field}: ${issue.message}`;
  });
  throw new OptioConfigError(`invalid ${what}: ${problems.join("; ")}`, { cause: result.error });
}
