import type { TerminalOptions } from "../spec/config.js";
import { publishTerminal } from "../terminal/terminal-server.js";
import { ensureTtyd, launchTtyd } from "../terminal/ttyd.js";
import type { HookContext } from "../spec/hook-context.js";
import type { TmuxSession } from "../terminal/tmux.js";

export interface AgentTerminal {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves the agent's tmux session to browsers with the configured backend. */
export async function publishAgentTerminal(
  hook: HookContext,
  session: TmuxSession,
  options: TerminalOptions,
): Promise<AgentTerminal> {
  if (options.backend === "builtin") {
    return publishTerminal(
      hook.processId,
      { host: hook.host, session },
      { readOnly: options.readOnly, allowedOrigins: options.allowedOrigins },
    );
  }
  const ttyd = await ensureTtyd(hook, {
    installIfMissing: options.installTtydIfMissing,
    installDir: options.ttydInstallDir,
  });
  const instance = await launchTtyd(hook.host, {
    ttydPath: ttyd.path,
    session,
    maxViewers: options.maxViewers,
    readOnly: options.readOnly,
  });
  const url = new URL(instance.url);
  url.username = instance.credential.username;
  url.password = instance.credential.password;
  return { url: url.href, close: () => instance.close() };
}
