import path from "node:path";
import type { Host } from "@optio/host";
import { DEFAULT_MAX_DELIVERABLE_BYTES } from "../spec/config.js";
import type { ReportLevel } from "../spec/task-context.js";
import { DELIVERABLES_DIR } from "./documentation.js";
import { type BelowRead, readBelow } from "./read-below.js";

export type DeliverablePathResult =
  | { ok: true; absolute: string; relative: string; realWorkdir: string }
  | { ok: false; reason: string };

// Host paths are POSIX on every host optio drives (local Linux/macOS, SSH).
const posix = path.posix;

function isStrictlyInside(dir: string, candidate: string): boolean {
  const rel = posix.relative(dir, candidate);
  return rel !== "" && rel !== ".." && !rel.startsWith("../") && !posix.isAbsolute(rel);
}

/**
 * Resolves a DELIVERABLE path (relative to the workdir, or absolute) to a file
 * strictly inside `<workdir>/deliverables/`, after following every symlink on
 * the host. deliverables/ itself must resolve to a directory inside the
 * workdir. `relative` is the file's path below the real deliverables dir.
 */
export async function resolveDeliverablePath(host: Host, raw: string): Promise<DeliverablePathResult> {
  const trimmed = raw.trim();
  if (trimmed === "") return { ok: false, reason: "the path is empty" };
  if (trimmed.includes("\0")) return { ok: false, reason: "the path contains a NUL byte" };

  const lexicalDir = posix.join(host.workdir, DELIVERABLES_DIR);
  const candidate = posix.resolve(host.workdir, trimmed);
  // A relative path is judged before touching the host, so `..` never probes outside the workdir.
  if (!posix.isAbsolute(trimmed) && !isStrictlyInside(lexicalDir, candidate)) {
    return { ok: false, reason: `${JSON.stringify(trimmed)} is not inside ${DELIVERABLES_DIR}/` };
  }

  const realDir = await host.realpath(lexicalDir);
  if (realDir === null) return { ok: false, reason: `the workdir has no ${DELIVERABLES_DIR}/ directory` };
  const realWorkdir = await host.realpath(host.workdir);
  // deliverables/ replaced by a symlink to elsewhere would turn every deliverable into a read outside the workdir.
  if (realWorkdir === null || !isStrictlyInside(realWorkdir, realDir)) {
    return { ok: false, reason: `${DELIVERABLES_DIR}/ resolves to ${realDir}, which is outside the workdir` };
  }
  const real = await host.realpath(candidate);
  if (real === null) return { ok: false, reason: `${JSON.stringify(trimmed)} does not exist` };
  if (!isStrictlyInside(realDir, real)) {
    return {
      ok: false,
      reason: `${JSON.stringify(trimmed)} resolves to ${real}, which is not inside ${DELIVERABLES_DIR}/`,
    };
  }
  const stat = await host.stat(real);
  if (stat?.type !== "file") return { ok: false, reason: `${JSON.stringify(trimmed)} is not a regular file` };
  return { ok: true, absolute: real, relative: posix.relative(realDir, real), realWorkdir };
}

export interface DeliverableQueueOptions {
  host: Host;
  /** A larger deliverable is skipped and reported. Default 16 MiB. */
  maxBytes?: number;
  /** Paths accepted but not yet handled; `push` waits while this many are pending. Default 64. */
  capacity?: number;
  /** Gets the path relative to deliverables/ and the file's UTF-8 text. */
  deliver: (relative: string, text: string) => Promise<void>;
  /** Told about every skipped deliverable and every failed delivery. */
  report: (level: ReportLevel, message: string) => void;
}

export interface DeliverableQueue {
  /** Accepts a raw DELIVERABLE path; waits while the queue is full. */
  push(raw: string): Promise<void>;
  /** Resolves once everything pushed before the call has been handled. */
  drain(): Promise<void>;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Fetches and delivers deliverables one at a time, in the order announced.
 * Memory is bounded by `capacity`: a full queue makes `push` wait rather than
 * grow or drop. A bad deliverable is reported and skipped; the queue goes on.
 */
export function createDeliverableQueue(options: DeliverableQueueOptions): DeliverableQueue {
  const { host, deliver } = options;
  const capacity = options.capacity ?? 64;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DELIVERABLE_BYTES;
  if (!Number.isInteger(capacity) || capacity < 1)
    throw new RangeError(`capacity must be a positive integer, got ${capacity}`);

  const pending: string[] = [];
  const blocked: Array<{ raw: string; accepted: () => void }> = [];
  const drains: Array<{ target: number; resolve: () => void }> = [];
  let pushed = 0;
  let handled = 0;
  let running = false;

  const report = (level: ReportLevel, message: string): void => {
    try {
      options.report(level, message);
    } catch {
      // A broken reporter must not stop deliveries.
    }
  };

  async function handle(raw: string): Promise<void> {
    const label = JSON.stringify(raw);
    let resolved: DeliverablePathResult;
    try {
      resolved = await resolveDeliverablePath(host, raw);
    } catch (error) {
      report("warn", `deliverable ${label} skipped: its path could not be checked: ${describe(error)}`);
      return;
    }
    if (!resolved.ok) {
      report("warn", `deliverable ${label} skipped: ${resolved.reason}`);
      return;
    }
    let read: BelowRead;
    try {
      read = await readBelow(
        host,
        resolved.realWorkdir,
        posix.relative(resolved.realWorkdir, resolved.absolute).split("/"),
        maxBytes,
        "maxDeliverableBytes",
      );
    } catch (error) {
      report("warn", `deliverable ${label} skipped: it could not be read: ${describe(error)}`);
      return;
    }
    if (!read.ok) {
      report("warn", `deliverable ${label} skipped: ${read.reason}`);
      return;
    }
    const bytes = read.bytes;
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      report("warn", `deliverable ${label} skipped: it is not UTF-8 text`);
      return;
    }
    try {
      await deliver(resolved.relative, text);
    } catch (error) {
      report("error", `deliverable ${label}: the callback failed: ${describe(error)}`);
    }
  }

  function settleDrains(): void {
    for (let i = drains.length - 1; i >= 0; i--) {
      const waiter = drains[i];
      if (waiter && waiter.target <= handled) {
        drains.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  async function run(): Promise<void> {
    running = true;
    try {
      for (let raw = pending.shift(); raw !== undefined; raw = pending.shift()) {
        // The freed slot goes to the oldest waiting push, so order holds and the queue never exceeds capacity.
        const next = blocked.shift();
        if (next) {
          pending.push(next.raw);
          next.accepted();
        }
        await handle(raw);
        handled++;
        settleDrains();
      }
    } finally {
      running = false;
    }
  }

  return {
    push(raw: string): Promise<void> {
      pushed++;
      if (pending.length < capacity && blocked.length === 0) {
        pending.push(raw);
        if (!running) void run();
        return Promise.resolve();
      }
      return new Promise<void>((accepted) => blocked.push({ raw, accepted }));
    },
    drain(): Promise<void> {
      if (handled >= pushed) return Promise.resolve();
      return new Promise<void>((resolve) => drains.push({ target: pushed, resolve }));
    },
  };
}
