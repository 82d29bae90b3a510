import { posix } from "node:path";
import { credentialFileBytes, type AdapterContext } from "@optio/agents";
import { CODEX_DIR } from "./command.js";
import type { CodexTaskConfig } from "./config.js";

export const AUTH_JSON = `${CODEX_DIR}/auth.json`;
export const CONFIG_TOML = `${CODEX_DIR}/config.toml`;

/**
 * optio's part of `config.toml`: no update check (the binary lives in a
 * shared cache), the login kept in `auth.json` rather than a keyring the
 * task cannot reach, and the workdir trusted so Codex does not stop to ask.
 * JSON strings are valid TOML basic strings, so the path is quoted with JSON.
 */
export function codexConfigToml(workdir: string, extra?: string): string {
  const own = ["check_for_update_on_startup = false", 'cli_auth_credentials_store = "file"'];
  const trust = [`[projects.${JSON.stringify(workdir)}]`, 'trust_level = "trusted"'];
  // The caller's lines sit between: top-level keys must come before the first table.
  return [...own, ...(extra !== undefined ? ["", extra.trimEnd()] : []), "", ...trust, ""].join("\n");
}

/** Writes `config.toml` and the login under the task's HOME; the user's own `~/.codex` is never touched. */
export async function plantCodexHome(ctx: AdapterContext, config: CodexTaskConfig): Promise<void> {
  const { host, home } = ctx;
  // Each level gets 0700 itself: a recursive mkdir would leave the parents to the umask.
  for (const dir of ["", CODEX_DIR]) await host.mkdir(posix.join(home, dir), { mode: 0o700 });
  await host.writeText(posix.join(home, CONFIG_TOML), codexConfigToml(ctx.workdir, config.codexConfigToml), {
    mode: 0o600,
  });
  // Codex's TUI takes an API key from auth.json only, so one given as OPENAI_API_KEY (the CLI's --env) is written there.
  const key = config.env.OPENAI_API_KEY;
  const login = config.credentials ?? (key !== undefined ? { OPENAI_API_KEY: key } : undefined);
  if (login !== undefined)
    await host.writeFile(posix.join(home, AUTH_JSON), credentialFileBytes(login), { mode: 0o600 });
}
