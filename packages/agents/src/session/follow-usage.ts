import { setTimeout as sleep } from "node:timers/promises";
import type { Host } from "@optio/host";
import type { TaskContext } from "../spec/task-context.js";
import type { UsageLocation, UsageRecord, UsageReport, UsageSource, UsageTotals } from "../spec/usage.js";
import { UsageTally } from "./usage-tally.js";

/** How often a command source is asked again while the agent runs. */
const USAGE_POLL_MS = 2000;
const USAGE_COMMAND_TIMEOUT_MS = 30_000;
/** How often the command is asked while the session waits for the agent's last turn. */
const SETTLE_POLL_MS = 250;
/** How often a file source is looked at while the session waits for the agent's last turn. */
const SETTLE_FILE_POLL_MS = 25;
/** How long a file source must hold still to count as settled when nothing shows the last turn is in. */
const SETTLE_STILL_MS = 500;
/**
 * The longest record line the tail reads: a transcript line holds a whole
 * message, which may carry a file. A longer one is skipped while following
 * and counted by the last read in `finish`.
 */
const MAX_USAGE_LINE_BYTES = 4 * 1024 * 1024;

export interface UsageFollowerOptions {
  ctx: TaskContext;
  host: Host;
  /** The adapter's usage source; without one nothing is read. */
  source: UsageSource | undefined;
  where: UsageLocation;
  /** The file whose last line ended the session (optio.log): a record written after it shows the turn that wrote it is in. */
  outcomeLog: string;
  /** Told every report after the task context is. */
  onUsage?: (usage: UsageReport) => void;
}

export interface UsageFollower {
  /** Follows the agent's records while it runs. */
  follow(): void;
  /**
   * Waits (up to the source's `settleMs`, if any) for the agent to record its last turn before it is stopped:
   * a file source until it was written after `outcomeLog` or has held still for a while.
   */
  settle(): Promise<void>;
  /** Stops following and reads the records once more (the agent has stopped, its last ones are written); the totals, or undefined when there were none. */
  finish(): Promise<UsageTotals | undefined>;
  /** Stops following without a last read: the task let go of an agent that still runs. */
  release(): Promise<void>;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Turns the agent's own records into `usage` events, one per model turn,
 * summed by turn id: records read again (a resumed or adopted session reads
 * the conversation from its start) are counted once.
 */
export function createUsageFollower(options: UsageFollowerOptions): UsageFollower {
  const { ctx, host, source, where } = options;
  const tally = new UsageTally();
  const stop = new AbortController();
  let following: Promise<void> = Promise.resolve();
  let warned = false;

  function count(records: readonly UsageRecord[]): void {
    for (const record of records) {
      const report = tally.add(record);
      if (!report) continue;
      ctx.reportUsage(report);
      options.onUsage?.(report);
    }
  }

  function warn(error: unknown): void {
    if (warned || stop.signal.aborted) return;
    warned = true;
    ctx.report("warn", `reading the agent's usage failed: ${describe(error)}`);
  }

  function parseSafely(parse: () => UsageRecord[]): UsageRecord[] {
    try {
      return parse();
    } catch (error) {
      warn(error);
      return [];
    }
  }

  async function tail(path: string, parse: (line: string) => UsageRecord[]): Promise<void> {
    try {
      for await (const batch of host.tailLines(path, {
        signal: stop.signal,
        maxLineBytes: MAX_USAGE_LINE_BYTES,
        onLongLine: () => undefined,
      })) {
        for (const line of batch) count(parseSafely(() => parse(line)));
      }
    } catch (error) {
      warn(error);
    }
  }

  async function runCommand(
    command: string,
    parse: (output: string) => UsageRecord[],
    signal?: AbortSignal,
  ): Promise<void> {
    const result = await host.runCommand(command, {
      cwd: where.workdir,
      timeoutMs: USAGE_COMMAND_TIMEOUT_MS,
      ...(signal && { signal }),
    });
    if (result.exitCode === 0) count(parseSafely(() => parse(result.stdout)));
    else if (result.stderr.trim().length > 0) warn(new Error(result.stderr.trim().split("\n")[0]));
  }

  async function poll(command: string, parse: (output: string) => UsageRecord[]): Promise<void> {
    while (!stop.signal.aborted) {
      await runCommand(command, parse, stop.signal).catch(warn);
      await sleep(USAGE_POLL_MS, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  }

  async function readAll(reader: UsageSource): Promise<void> {
    if (reader.kind === "command") return runCommand(reader.command(where), reader.parse);
    const path = reader.path(where);
    if (!(await host.stat(path))) return;
    const text = (await host.readFile(path)).toString("utf8");
    for (const line of text.split("\n")) if (line.length > 0) count(parseSafely(() => reader.parse(line)));
  }

  return {
    follow: () => {
      if (!source) return;
      following =
        source.kind === "file" ? tail(source.path(where), source.parse) : poll(source.command(where), source.parse);
    },
    settle: async () => {
      if (!source?.settleMs) return;
      const deadline = Date.now() + source.settleMs;
      if (source.kind === "file") {
        const path = source.path(where);
        // The agent appends its records in order, and a turn's record is made before its tools run: a write after
        // the line that ended the session (the tool's result, the next turn) comes after the record of the turn
        // that wrote it. Mtimes of whole seconds (SFTP) rarely show that, so the file holding still settles too.
        const endedAt = (await host.stat(options.outcomeLog).catch(() => null))?.mtimeMs;
        let size = -1;
        let stillSince = Date.now();
        while (Date.now() < deadline) {
          const now = await host.stat(path).catch(() => null);
          if (now && endedAt !== undefined && now.mtimeMs > endedAt) return;
          if ((now?.size ?? 0) !== size) {
            size = now?.size ?? 0;
            stillSince = Date.now();
          } else if (Date.now() - stillSince >= SETTLE_STILL_MS) return;
          await sleep(Math.min(SETTLE_FILE_POLL_MS, Math.max(0, deadline - Date.now())));
        }
        return;
      }
      while (Date.now() < deadline) {
        const result = await host
          .runCommand(source.command(where), { cwd: where.workdir, timeoutMs: USAGE_COMMAND_TIMEOUT_MS })
          .catch(() => null);
        if (result?.exitCode === 0 && source.settled?.(result.stdout)) return;
        await sleep(Math.min(SETTLE_POLL_MS, Math.max(0, deadline - Date.now())));
      }
    },
    release: async () => {
      stop.abort();
      await following;
    },
    finish: async () => {
      if (!source) return undefined;
      stop.abort();
      await following;
      try {
        await readAll(source);
      } catch (error) {
        ctx.report("warn", `reading the agent's usage failed: ${describe(error)}`);
      }
      const totals = tally.totals;
      return totals.turns > 0 ? totals : undefined;
    },
  };
}
