import { posix } from "node:path";
import { credentialFileBytes, readAgentFile, type AdapterContext } from "@optio/agents";
import type { Host } from "@optio/host";
import type { ClaudeCodeTaskConfig } from "./config.js";
import { withStateHooks } from "./state-hooks.js";

/**
 * claude keeps its global state (onboarding, trusted projects, account) in
 * `$CLAUDE_CONFIG_DIR/.claude.json` when that variable is set, which the
 * command always does; `~/.claude.json` is only read without it.
 */
export const CLAUDE_DIR = ".claude";
export const CLAUDE_JSON = ".claude/.claude.json";

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The parsed JSON object at path (in the agent's tree, read without following links, capped), or null when it is missing, unsafe or not an object. */
export async function readJsonObject(host: Host, path: string): Promise<Json | null> {
  try {
    const bytes = await readAgentFile(host, path);
    if (bytes === null) return null;
    const parsed: unknown = JSON.parse(bytes.toString("utf8"));
    return isObject(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * settings.json: the consumer's, plus optio's state hooks beside the
 * consumer's own, plus the bypass-mode confirmation already given when that
 * mode was chosen.
 */
function settingsFor(config: ClaudeCodeTaskConfig): Json {
  const settings: Json = withStateHooks({ ...(config.claudeConfig ?? {}) });
  // Without this claude stops at a "Yes, I accept" screen before bypassPermissions takes effect.
  if (config.permissionMode === "bypassPermissions" && !("skipDangerousModePermissionPrompt" in settings)) {
    settings.skipDangerousModePermissionPrompt = true;
  }
  return settings;
}

/**
 * Marks first-run onboarding done and the workdir trusted, so an autonomous
 * run is never stopped by the onboarding, folder-trust or API-key prompts.
 */
export function preTrusted(existing: Json | null, workdir: string, apiKey: string | undefined): Json {
  const config: Json = { ...(existing ?? {}), hasCompletedOnboarding: true };
  const projects = isObject(config.projects) ? { ...config.projects } : {};
  const current = projects[workdir];
  projects[workdir] = { ...(isObject(current) ? current : {}), hasTrustDialogAccepted: true };
  config.projects = projects;
  if (apiKey) {
    const responses = isObject(config.customApiKeyResponses) ? config.customApiKeyResponses : {};
    const approved = Array.isArray(responses.approved) ? responses.approved.filter((k) => typeof k === "string") : [];
    // claude remembers an approved key by its last 20 characters.
    const tail = apiKey.trim().slice(-20);
    config.customApiKeyResponses = { ...responses, approved: approved.includes(tail) ? approved : [...approved, tail] };
  }
  return config;
}

/** Writes claude's per-task state under `<home>/.claude`; the real `~/.claude` is never touched. */
export async function plantClaudeHome(ctx: AdapterContext, config: ClaudeCodeTaskConfig): Promise<void> {
  const { host, home } = ctx;
  const dir = posix.join(home, CLAUDE_DIR);
  await host.mkdir(home, { mode: 0o700 });
  await host.mkdir(dir, { mode: 0o700 });
  const credentials = config.credentialsJson;
  const settings = settingsFor(config);
  const claudeJson = posix.join(home, CLAUDE_JSON);
  const writes: Promise<void>[] = [
    (async () => {
      const merged = preTrusted(await readJsonObject(host, claudeJson), ctx.workdir, config.env.ANTHROPIC_API_KEY);
      await host.writeText(claudeJson, `${JSON.stringify(merged, null, 2)}\n`, { mode: 0o600 });
    })(),
  ];
  if (credentials !== undefined)
    writes.push(
      host.writeFile(posix.join(dir, ".credentials.json"), credentialFileBytes(credentials), { mode: 0o600 }),
    );
  writes.push(
    host.writeText(posix.join(dir, "settings.json"), `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 }),
  );
  // Every write settles before a failure is thrown, so none is still writing when the session tears down.
  const failed = (await Promise.allSettled(writes)).find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
}
