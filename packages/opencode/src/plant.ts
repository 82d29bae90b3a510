import { posix } from "node:path";
import { credentialFileBytes, type AdapterContext } from "@optio/agents";
import type { OpenCodeTaskConfig } from "./config.js";
import { endpointConfig } from "./endpoint.js";

/** opencode's data dir (`$XDG_DATA_HOME/opencode`) relative to HOME: auth.json, its session database, logs. */
export const OPENCODE_DATA_DIR = ".local/share/opencode";
/** opencode's global config dir (`$XDG_CONFIG_HOME/opencode`) relative to HOME. */
export const OPENCODE_CONFIG_DIR = ".config/opencode";
/** opencode's state dir (`$XDG_STATE_HOME/opencode`) relative to HOME: prompt history, last model, locks. */
export const OPENCODE_STATE_DIR = ".local/state/opencode";
export const AUTH_JSON = `${OPENCODE_DATA_DIR}/auth.json`;
/** opencode's global config file under HOME; the workdir's `opencode.json` (from `opencodeConfig`) is merged over it. */
export const GLOBAL_CONFIG_JSON = `${OPENCODE_CONFIG_DIR}/opencode.json`;

/**
 * Writes the auth file and, with `apiBaseUrl`, the endpoint config under the
 * task's HOME, and the project config into the workdir; the user's own
 * opencode dirs are never touched.
 */
export async function plantOpenCodeHome(ctx: AdapterContext, config: OpenCodeTaskConfig): Promise<void> {
  const { host, home } = ctx;
  // Each level gets 0700 itself: a recursive mkdir would leave the parents to the umask.
  for (const dir of ["", ".local", ".local/share", OPENCODE_DATA_DIR, ".config", OPENCODE_CONFIG_DIR]) {
    await host.mkdir(posix.join(home, dir), { mode: 0o700 });
  }
  if (config.credentials !== undefined) {
    await host.writeFile(posix.join(home, AUTH_JSON), credentialFileBytes(config.credentials), { mode: 0o600 });
  }
  if (config.apiBaseUrl !== undefined) {
    await host.writeText(posix.join(home, GLOBAL_CONFIG_JSON), `${JSON.stringify(endpointConfig(), null, 2)}\n`, {
      mode: 0o600,
    });
  }
  if (config.opencodeConfig) {
    // Provider settings may hold keys, so the project config is private too.
    await host.writeText(
      posix.join(ctx.workdir, "opencode.json"),
      `${JSON.stringify(config.opencodeConfig, null, 2)}\n`,
      { mode: 0o600 },
    );
  }
}
