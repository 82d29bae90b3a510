import type { Host, PutResult, RunResult } from "@optio/host";
import type { Readable } from "node:stream";
import type { TaskContext } from "./task-context.js";
import type { AgentKey } from "./agent-keys.js";

export interface RunOnHostOptions {
  /** Throw HostCommandError on a non-zero exit. Default true. */
  check?: boolean;
  /** Target-style path (absolute, `~/…`, or workdir-relative). */
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** A blob held in the task's StateStore. */
export type BlobRef = { blobId: string };

export type CopySource = string | Uint8Array | Readable | AsyncIterable<Uint8Array> | BlobRef;

export interface SendTextOptions {
  /** Press Enter after a settle delay. */
  submit?: boolean;
}

/** Types into and reads the terminal of a running agent. */
export interface AgentDriver {
  /** Pastes literal text into the agent's terminal; with `submit`, presses Enter after a settle delay. Throws AgentNotRunningError when no agent runs. */
  sendText(text: string, options?: SendTextOptions): Promise<void>;
  /**
   * Presses named keys (see AGENT_KEYS), e.g. to answer a permission menu. Any
   * other name is an UnsupportedKeyError and nothing is pressed. Queued with
   * sendText, so input from several callers never interleaves.
   */
  sendKeys(keys: readonly AgentKey[]): Promise<void>;
  /** The agent's current screen as text. Throws AgentNotRunningError when no agent runs. */
  readScreen(): Promise<string>;
}

/**
 * Handed to beforeExecute, afterExecute, onDeliverable and adapters: the
 * TaskContext plus helpers that act on the task's host and report progress.
 * Targets are absolute, `~`-relative, or workdir-relative; a workdir-relative
 * path that escapes the workdir is a PathEscapeError.
 */
export interface HookContext extends TaskContext, AgentDriver {
  readonly host: Host;
  readonly workdir: string;
  /** Resolves a target-style path to an absolute host path. */
  resolveTarget(path: string): Promise<string>;
  runOnHost(command: string, options?: RunOnHostOptions): Promise<RunResult>;
  /** A string source is a local path on the worker. */
  copyFile(
    source: CopySource,
    target: string,
    options?: { skipIfUnchanged?: boolean; mode?: number },
  ): Promise<PutResult>;
  readFromHost(path: string): Promise<Buffer>;
  readTextFromHost(path: string): Promise<string>;
  /** Downloads on the host itself, with byte progress; a failure removes the partial file. */
  downloadFile(url: string, target: string, options?: { sha256?: string }): Promise<void>;
}
