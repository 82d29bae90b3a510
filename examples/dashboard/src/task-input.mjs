// What the dashboard takes from a request or its saved state, checked before use.
import { homedir } from "node:os";
import { isAbsolute, join, relative, resolve, sep } from "node:path";

/** What a task's process id may hold. */
export const PROCESS_ID = /^[A-Za-z0-9._-]+$/;
const SSH_TARGET = /^([^@\s:]+)@(\[[0-9A-Fa-f:.]+\]|[^@\s:[\]]+)(?::(\d{1,5}))?$/;
/** What a waiting agent's permission prompt may be answered with. */
export const ANSWERS = ["approve", "deny"];

/** `$XDG_DATA_HOME/optio-dashboard`, or `~/.local/share/optio-dashboard`. */
export function defaultDataDir(env) {
  const base = env.XDG_DATA_HOME || join(homedir(), ".local", "share");
  return join(base, "optio-dashboard");
}

/** `<base>/<relativePath>`, refusing anything that lands outside base. */
export function safeJoin(base, relativePath) {
  if (
    typeof relativePath !== "string" ||
    relativePath === "" ||
    relativePath.includes("\0") ||
    isAbsolute(relativePath)
  )
    return null;
  const root = resolve(base);
  const target = resolve(root, relativePath);
  const rel = relative(root, target);
  if (rel === "" || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return null;
  return target;
}

/** `user@host[:port]` as an SSH target, or null when it is not one. */
export function parseSshTarget(text) {
  const match = SSH_TARGET.exec(text);
  if (!match) return null;
  const [, username, rawHost, rawPort] = match;
  const port = rawPort === undefined ? 22 : Number(rawPort);
  if (port < 1 || port > 65535) return null;
  return { username, host: rawHost.startsWith("[") ? rawHost.slice(1, -1) : rawHost, port };
}
