import type { TaskEvent, TaskOutcome } from "../spec/task-context.js";

export interface OutputStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** An error as plain JSON: name, message and code survive; stacks and causes do not. */
function errorJson(error: unknown): unknown {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(typeof code === "string" && { code }) };
  }
  return error === undefined ? undefined : String(error);
}

/** JSON for one line; values JSON cannot hold (bigint, cycles) become strings rather than failing the run. */
export function jsonLine(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === "bigint") return v.toString();
    if (v instanceof Error) return errorJson(v);
    if (typeof v === "object" && v !== null) {
      if (seen.has(v)) return "[circular]";
      seen.add(v);
    }
    return v;
  });
}

export function outcomeJson(outcome: TaskOutcome): Record<string, unknown> {
  return outcome.status === "failed" ? { ...outcome, error: errorJson(outcome.error) } : { ...outcome };
}

const percentText = (percent: number | null) =>
  percent === null ? "[ -- ]" : `[${String(Math.round(percent)).padStart(3)}%]`;

/**
 * Renders task events for a person (or as JSON lines). Progress before the
 * terminal appears is setup (install, copy): on a TTY it is one bar redrawn
 * in place; afterwards progress comes from the agent's STATUS lines.
 */
export class EventPrinter {
  #barShown = false;
  #agentStarted = false;

  constructor(
    private readonly stdout: OutputStream,
    private readonly stderr: OutputStream,
    private readonly json: boolean,
  ) {}

  /** A line for the person at the terminal: stdout normally, stderr in JSON mode (stdout holds only events). */
  say(text: string): void {
    this.#write(this.json ? this.stderr : this.stdout, `${text}\n`);
  }

  warn(text: string): void {
    this.#write(this.stderr, `${text}\n`);
  }

  jsonObject(value: unknown): void {
    this.#write(this.stdout, `${jsonLine(value)}\n`);
  }

  event(event: TaskEvent): void {
    if (this.json) {
      if (event.type !== "outcome") this.jsonObject(event);
      return;
    }
    switch (event.type) {
      case "progress":
        if (!this.#agentStarted) this.#setupProgress(event.percent, event.message);
        else this.say(`STATUS ${percentText(event.percent)} ${event.message ?? ""}`.trimEnd());
        return;
      case "widget":
        if (event.widget) {
          this.#agentStarted = true;
          this.say(`Terminal: ${event.widget.url}`);
        }
        return;
      case "browser":
        this.say(`BROWSER: the agent asks to open ${event.url}`);
        return;
      case "attention":
        this.say(`ATTENTION: ${event.reason}`);
        return;
      case "agent-state":
        this.say(`STATE ${event.state}${event.message ? `: ${event.message}` : ""}`);
        return;
      case "domain":
        this.say(`DOMAIN ${event.keyword}: ${jsonLine(event.data)}`);
        return;
      case "saved-state":
        this.say("State saved: this task can be resumed.");
        return;
      case "report":
        if (event.level === "info") this.say(`info: ${event.message}`);
        else this.warn(`${event.level === "warn" ? "warning" : "error"}: ${event.message}`);
        return;
      // Per turn only in JSON: a person gets the sum once, at the end.
      case "usage":
      case "outcome":
        return;
    }
  }

  #setupProgress(percent: number | null, message: string | undefined): void {
    if (!this.stdout.isTTY) {
      this.say(`SETUP  ${percentText(percent)} ${message ?? ""}`.trimEnd());
      return;
    }
    const width = 24;
    const filled = percent === null ? 0 : Math.max(0, Math.min(width, Math.round((percent / 100) * width)));
    const bar = `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${percent === null ? " -- " : `${String(Math.round(percent)).padStart(3)}%`}`;
    const columns = this.stdout.columns ?? 80;
    const text = `${bar} ${message ?? ""}`.slice(0, Math.max(10, columns - 1));
    this.stdout.write(`\r\x1b[2K${text}`);
    this.#barShown = true;
  }

  /** Ends a bar in progress so the next line starts clean. */
  #write(stream: OutputStream, text: string): void {
    if (this.#barShown) {
      this.stdout.write("\n");
      this.#barShown = false;
    }
    stream.write(text);
  }
}
