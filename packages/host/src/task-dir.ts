import os from "node:os";
import path from "node:path";
import { UnsafeProcessIdError } from "./errors.js";

const SAFE_NAME = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Returns `id` when it is safe to use as one path segment: 1-128 characters
 * of `[A-Za-z0-9._-]`, not `.` or `..`. Anything else could leave the task
 * root; a longer one would fail later with ENAMETOOLONG once suffixes are added.
 */
export function validateProcessId(id: string, what = "processId"): string {
  if (typeof id !== "string" || !SAFE_NAME.test(id) || id === "." || id === "..") {
    throw new UnsafeProcessIdError(
      `${what} must be 1-128 characters of [A-Za-z0-9._-] and not "." or "..": ${JSON.stringify(id)}`,
    );
  }
  return id;
}

export interface TaskDirOptions {
  /** The consumer (agent) name, e.g. `claudecode`; it names the root and its env variables. */
  consumer: string;
  processId: string;
  /** Resolve the root for a remote host (`/tmp/<consumer>` by default). */
  remote?: boolean;
  env?: Readonly<Record<string, string | undefined>>;
  home?: string;
}

/** `claudecode` → `CLAUDECODE`, `my-agent` → `MY_AGENT`. */
export function consumerEnvPrefix(consumer: string): string {
  return validateProcessId(consumer, "consumer").toUpperCase().replace(/[-.]/g, "_");
}

/** The directory that holds every task dir of `consumer`. */
export function resolveTaskRoot(options: Omit<TaskDirOptions, "processId">): string {
  const { consumer, remote = false, env = process.env, home = os.homedir() } = options;
  const prefix = consumerEnvPrefix(consumer);
  if (remote) {
    const root = env[`${prefix}_REMOTE_TASK_ROOT`];
    return root ? path.posix.normalize(root) : path.posix.join("/tmp", consumer);
  }
  const root = env[`${prefix}_TASK_ROOT`];
  if (root) return path.resolve(root);
  const xdg = env.XDG_DATA_HOME;
  if (xdg) return path.resolve(xdg, consumer);
  return path.resolve(home, ".local", "share", consumer);
}

/** `<root>/<processId>`: stable per (consumer, processId), so a resume finds it again. */
export function resolveTaskDir(options: TaskDirOptions): string {
  const id = validateProcessId(options.processId);
  const root = resolveTaskRoot(options);
  return options.remote ? path.posix.join(root, id) : path.join(root, id);
}
