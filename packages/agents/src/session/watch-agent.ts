import { setTimeout as sleep } from "node:timers/promises";
import type { Host } from "@optio/host";
import type { BrowserMode } from "../spec/browser-mode.js";
import type { DeliverableQueue } from "../protocol/deliverables.js";
import { parseLogLine } from "../protocol/parse-log-line.js";
import { readAgentFile } from "../protocol/read-agent-file.js";
import type { TaskContext, TaskOutcome } from "../spec/task-context.js";
import { WRAPPER_EXIT_PATTERN } from "./launch.js";
import { paneState, readScreen, type TmuxSession } from "../terminal/tmux.js";

export interface WatchOptions {
  ctx: TaskContext;
  host: Host;
  session: TmuxSession;
  mode: BrowserMode;
  logPath: string;
  deliverables: DeliverableQueue;
  /** optio.log lines an earlier worker already turned into events (an adopted session): read past, not handled again. */
  skipLines?: number;
  /**
   * Told the count of lines handled so far (from line 1) after each batch,
   * once that batch's events are delivered, deliverables included. What it
   * records is where an adopter continues. It runs beside the tail, never in
   * its way: calls do not overlap, counts that came meanwhile are told as the
   * newest one, and the watch returns once the last call has finished. A
   * rejection is reported as a warning.
   */
  onLinesHandled?: (lines: number) => Promise<void>;
}

/**
 * How often the pane is checked for an exit the log did not announce.
 * The wrapper announces every exit of the agent in the log; polling only
 * catches the wrapper itself dying (killed, tmux gone). It is rare, so the
 * check is too: each look spawns a tmux client, and on LocalHost spawning
 * stalls the event loop for a few milliseconds, which every event then waits out.
 */
const PANE_POLL_MS = 2000;
/** After the pane is found dead, how long the tail gets to reach lines written just before. */
const EXIT_GRACE_MS = 500;

const SCREEN_TAIL_LINES = 15;
/** The protocol's longest line: a longer one in optio.log is cut (never buffered) and reported as a notice. */
export const MAX_LOG_LINE_BYTES = 1024 * 1024;
/** The most of optio.log read at once after the agent is gone, to find lines the tail had not reached. */
const FINAL_LOG_READ_MAX_BYTES = 64 * 1024 * 1024;

async function screenTail(host: Host, session: TmuxSession): Promise<string> {
  try {
    // A dead pane's last output can sit just above the visible screen, so include some history.
    const lines = (await readScreen(host, session, { scrollback: 200 })).split("\n").filter((l) => l.trim() !== "");
    return lines.slice(-SCREEN_TAIL_LINES).join("\n");
  } catch {
    return "";
  }
}

async function withScreen(host: Host, session: TmuxSession, message: string): Promise<string> {
  const screen = await screenTail(host, session);
  return screen ? `${message}\nlast lines on the agent's screen:\n${screen}` : message;
}

/**
 * Follows optio.log and turns it into task events until a terminal line,
 * the agent's exit, or cancellation decides the outcome.
 */
export async function watchAgent(options: WatchOptions): Promise<TaskOutcome> {
  const { ctx, host, session, mode, logPath, deliverables } = options;
  const skipLines = options.skipLines ?? 0;
  const ended = new AbortController();
  // Derived, not listened for: a cancel that came before the watch began (during the launch) stops it at once.
  const stop = AbortSignal.any([ctx.signal, ended.signal]);
  let linesSeen = 0;
  let outcome: TaskOutcome | null = null;
  let delivering = false;
  let recording: Promise<void> | null = null;
  let newest = 0;

  // A record is a file write (fsynced on a local host): lines that come meanwhile are handled, not held up by it.
  function record(lines: number, onLinesHandled: (lines: number) => Promise<void>): void {
    newest = lines;
    recording ??= (async () => {
      for (let told = -1; told !== newest; ) {
        told = newest;
        await onLinesHandled(told);
      }
    })()
      .catch((error: unknown) =>
        ctx.report(
          "warn",
          `recording how far optio.log was followed failed: ${error instanceof Error ? error.message : String(error)}`,
        ),
      )
      .finally(() => {
        recording = null;
      });
  }

  async function handle(line: string): Promise<TaskOutcome | null> {
    const event = parseLogLine(line, mode);
    switch (event.type) {
      case "status":
        ctx.reportProgress(event.percent, event.message);
        return null;
      case "deliverable":
        delivering = true;
        await deliverables.push(event.path);
        return null;
      case "browser":
        ctx.requestBrowserOpen(event.url);
        return null;
      case "attention":
        ctx.needAttention(event.reason);
        return null;
      case "domain":
        ctx.domainMessage(event.keyword, event.data);
        return null;
      case "invalid":
        ctx.report("warn", `optio.log: ${event.keyword} line dropped: ${event.reason}`);
        return null;
      case "ignored":
        ctx.report("info", `optio.log: ${event.keyword} line ignored: ${event.reason}`);
        return null;
      case "text":
        if (event.text.trim() !== "") ctx.reportProgress(null, event.text);
        return null;
      case "done":
        return event.summary === undefined ? { status: "done" } : { status: "done", summary: event.summary };
      case "error":
        if (WRAPPER_EXIT_PATTERN.test(event.message))
          return { status: "failed", message: await withScreen(host, session, event.message) };
        return { status: "failed", message: event.message };
    }
  }

  const tailing = (async () => {
    const onLongLine = (head: string) => {
      linesSeen += 1;
      if (linesSeen <= skipLines) return;
      ctx.report(
        "warn",
        `optio.log: a line over ${MAX_LOG_LINE_BYTES} bytes was cut and dropped: ${head.slice(0, 80)}…`,
      );
    };
    for await (const batch of host.tailLines(logPath, { signal: stop, maxLineBytes: MAX_LOG_LINE_BYTES, onLongLine })) {
      for (const line of batch) {
        linesSeen += 1;
        if (linesSeen <= skipLines) continue;
        outcome = await handle(line);
        if (outcome) return;
      }
      if (linesSeen <= skipLines || !options.onLinesHandled) continue;
      if (delivering) {
        delivering = false;
        await deliverables.drain();
      }
      record(linesSeen, options.onLinesHandled);
    }
  })();

  const watchingPane = (async () => {
    let misses = 0;
    while (!stop.aborted) {
      await sleep(PANE_POLL_MS, undefined, { signal: stop }).catch(() => undefined);
      if (stop.aborted) return;
      const pane = await paneState(host, session).catch(() => null);
      if (pane && !pane.dead) {
        misses = 0;
        continue;
      }
      // One failed look (a slow SSH round trip) is not an exit; a pane gone three times in a row is.
      if (!pane && ++misses < 3) continue;
      // The agent is gone. Give the tail a moment, then read what it has not reached yet:
      // a DONE written just before the exit (or a last line without its newline) must count.
      await sleep(EXIT_GRACE_MS);
      if (stop.aborted || outcome) return;
      ended.abort();
      // A tail that failed (optio.log not a regular file, the connection gone) leaves nothing safe to read.
      if (
        await tailing.then(
          () => false,
          () => true,
        )
      )
        return;
      if (outcome) return;
      // Not followed through a link, nor blocked on a FIFO, nor held past the cap: the agent may still have swapped it.
      const text = (
        (await readAgentFile(host, logPath, { maxBytes: FINAL_LOG_READ_MAX_BYTES }).catch(() => null)) ??
        Buffer.alloc(0)
      ).toString("utf8");
      const rest = text
        .split("\n")
        .slice(Math.max(linesSeen, skipLines))
        .filter((l) => l !== "");
      for (const line of rest) {
        outcome = await handle(line);
        if (outcome) return;
      }
      const status = pane?.exitStatus ?? null;
      outcome = {
        status: "failed",
        message: await withScreen(
          host,
          session,
          `the agent exited${status === null ? "" : ` with code ${status}`} without reporting DONE or ERROR`,
        ),
      };
      return;
    }
  })();

  try {
    await tailing.catch((error: unknown) => {
      if (!stop.aborted) throw error;
    });
    if (!outcome && !ctx.signal.aborted) await watchingPane;
  } finally {
    ended.abort();
    await watchingPane.catch(() => undefined);
    await recording;
  }
  if (ctx.signal.aborted && !outcome) return { status: "cancelled" };
  return outcome ?? { status: "failed", message: "the agent's log ended without an outcome" };
}
