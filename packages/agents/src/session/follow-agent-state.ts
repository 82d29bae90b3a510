import type { Host } from "@optio/host";
import type { TaskContext } from "../spec/task-context.js";
import type { AgentState, AgentStateChange, AgentStateSource, HookStateChange } from "../spec/agent-state.js";

/**
 * After a turn ends, how long the task gets to finish (the DONE line the
 * agent wrote during the turn may reach optio.log's tail a little after the
 * hook's line) before the turn counts as ended without DONE.
 */
const TURN_END_GRACE_MS = 1000;
/** The longest state-file line read; hooks write far less, a longer line is cut and dropped. */
const MAX_STATE_LINE_BYTES = 64 * 1024;

const NEEDS_PERSON: ReadonlySet<AgentState> = new Set(["waiting-permission", "waiting-input"]);

export interface AgentStateFollowerOptions {
  ctx: TaskContext;
  host: Host;
  /** The state file the agent's hooks append to. */
  path: string;
  /** The adapter's reading of its hooks' lines; without one only `starting` and `exited` are reported. */
  source: AgentStateSource | undefined;
  displayName: string;
  /** Told every change after the task context is. */
  onChange?: (change: AgentStateChange) => void;
}

export interface AgentStateFollower {
  /** Reports `starting`: the agent is being launched. */
  starting(): void;
  /**
   * Follows the state file until `exited` (or the host goes away). An
   * adopted agent's file already holds what the dead worker reported: its
   * lines are read without a report each, and only the state they end in is
   * reported (with attention when it waits for a person), then new lines.
   */
  follow(options?: { adopted?: boolean }): void;
  /** Reports `exited` (once) and stops following. */
  exited(): Promise<void>;
  /** Stops following without reporting anything: the task let go of an agent that still runs. */
  release(): Promise<void>;
}

function attentionReason(displayName: string, change: AgentStateChange): string {
  const said = change.message ? `: ${change.message}` : "";
  return change.state === "waiting-permission"
    ? `${displayName} asks for permission${said}`
    : `${displayName} ended its turn without reporting DONE and waits for input${said}`;
}

/**
 * Turns the agent's hook lines into `agent-state` events, and asks for
 * attention once per episode: from a wait for a person (a permission prompt,
 * a turn ended without DONE) until the agent works again.
 */
export function createAgentStateFollower(options: AgentStateFollowerOptions): AgentStateFollower {
  const { ctx, host, path, source, displayName } = options;
  const stop = new AbortController();
  let current: AgentState | null = null;
  let attentionAsked = false;
  let turnEnd: NodeJS.Timeout | undefined;
  let following: Promise<void> = Promise.resolve();

  function change(state: AgentState, message?: string): void {
    if (state === current || current === "exited") return;
    clearTimeout(turnEnd);
    current = state;
    const event: AgentStateChange = { state, timestamp: Date.now(), ...(message ? { message } : {}) };
    ctx.reportAgentState(event);
    options.onChange?.(event);
    if (state === "working" || state === "starting") attentionAsked = false;
    if (NEEDS_PERSON.has(state) && !attentionAsked) {
      attentionAsked = true;
      ctx.needAttention(attentionReason(displayName, event));
    }
    if (state === "idle") {
      // A finished task ends the session (and this follower) within the grace; one still running waits for a person.
      turnEnd = setTimeout(() => change("waiting-input", message), TURN_END_GRACE_MS);
    }
  }

  /** How many whole lines the file holds now, and the change the last readable one made. */
  async function reportedSoFar(reader: AgentStateSource): Promise<{ lines: number; last: HookStateChange | null }> {
    const text = (await host.readFile(path).catch(() => Buffer.alloc(0))).toString("utf8");
    const lines = text.split("\n").slice(0, -1);
    let last: HookStateChange | null = null;
    for (const line of lines) last = reader.parse(line) ?? last;
    return { lines: lines.length, last };
  }

  async function tail(reader: AgentStateSource, adopted: boolean): Promise<void> {
    const onLongLine = (head: string) =>
      ctx.report("warn", `agent state: a line over ${MAX_STATE_LINE_BYTES} bytes was dropped: ${head.slice(0, 80)}…`);
    try {
      let skip = 0;
      if (adopted) {
        const before = await reportedSoFar(reader);
        skip = before.lines;
        if (before.last) change(before.last.state, before.last.message);
      }
      for await (const batch of host.tailLines(path, {
        signal: stop.signal,
        maxLineBytes: MAX_STATE_LINE_BYTES,
        onLongLine,
      })) {
        for (const line of batch) {
          if (skip > 0) {
            skip -= 1;
            continue;
          }
          const next = reader.parse(line);
          if (next) change(next.state, next.message);
        }
      }
    } catch (error) {
      if (!stop.signal.aborted)
        ctx.report(
          "warn",
          `following the agent's state stopped: ${error instanceof Error ? error.message : String(error)}`,
        );
    }
  }

  return {
    starting: () => change("starting"),
    follow: (followOptions = {}) => {
      if (source) following = tail(source, followOptions.adopted ?? false);
    },
    release: async () => {
      stop.abort();
      clearTimeout(turnEnd);
      await following;
    },
    exited: async () => {
      stop.abort();
      await following;
      change("exited");
    },
  };
}
