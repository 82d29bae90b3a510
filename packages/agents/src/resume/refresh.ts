import { FileTooLargeError, type Host, UnsafeFileError } from "@optio/host";
import { readAgentFile } from "../protocol/read-agent-file.js";
import type { ReportLevel } from "../spec/task-context.js";
import { safeRelativePath } from "./blob-bytes.js";

type Awaitable<T> = T | Promise<T>;

/** A file the session writes from the config, workdir-relative (e.g. the instructions file). */
export interface RenderedFile {
  path: string;
  content: string;
}

export interface RefreshOnResumeOptions<C> {
  host: Host;
  /** The config the session was started with. */
  config: C;
  /** `config.onResumeRefresh`: returns the config to continue with; `undefined` keeps the current one. */
  onResumeRefresh?: ((config: C) => Awaitable<C | undefined | void>) | undefined;
  /** The files the session derives from a config. */
  render: (config: C) => Awaitable<readonly RenderedFile[]>;
  report: (level: ReportLevel, message: string) => void;
}

export interface RefreshResult<C> {
  config: C;
  /** Workdir-relative paths whose content changed and was rewritten. */
  refreshed: string[];
}

/** The file's text, or null when it is missing or not one optio reads (a link, a special file, over the cap): then it is rewritten. */
async function readTextOrNull(host: Host, path: string): Promise<string | null> {
  try {
    return (await readAgentFile(host, path))?.toString("utf8") ?? null;
  } catch (error) {
    if (UnsafeFileError.isInstance(error) || FileTooLargeError.isInstance(error)) return null;
    throw error;
  }
}

/**
 * On resume only: asks the consumer's hook for the config to continue with,
 * re-renders the session's files from it and rewrites those whose content
 * differs from what is on the host. A hook that throws (or returns
 * something that is not an object) is reported as a warning and ignored:
 * the old config is kept and nothing is rewritten. Without a hook nothing
 * happens.
 */
export async function refreshOnResume<C>(options: RefreshOnResumeOptions<C>): Promise<RefreshResult<C>> {
  const { host, config, onResumeRefresh, render, report } = options;
  if (!onResumeRefresh) return { config, refreshed: [] };
  let next: C;
  try {
    const returned = await onResumeRefresh(config);
    if (returned === undefined) {
      next = config;
    } else if (typeof returned !== "object" || returned === null) {
      report(
        "warn",
        `onResumeRefresh returned ${returned === null ? "null" : typeof returned}, not a config; continuing with the previous config`,
      );
      return { config, refreshed: [] };
    } else {
      next = returned as C;
    }
  } catch (error) {
    report(
      "warn",
      `onResumeRefresh failed and was ignored; continuing with the previous config: ${error instanceof Error ? error.message : String(error)}`,
    );
    return { config, refreshed: [] };
  }

  const refreshed: string[] = [];
  for (const file of await render(next)) {
    const path = safeRelativePath(file.path, "rendered file");
    if ((await readTextOrNull(host, path)) === file.content) continue;
    await host.writeText(path, file.content);
    refreshed.push(path);
  }
  return { config: next, refreshed };
}
