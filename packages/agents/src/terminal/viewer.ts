import { createHash, timingSafeEqual } from "node:crypto";
import type { Host, PtyHandle } from "@optio/host";
import type WebSocket from "ws";
import { attachCommand, type TmuxSession } from "./tmux.js";
import { FlowControl, type FlowControlOptions } from "./flow-control.js";
import { CloseCode, parseClientMessage, type ServerMessage } from "./protocol.js";

// WebSocket ready states, as numbers: `ws` itself is loaded only when a terminal server starts.
const CONNECTING = 0;
const OPEN = 1;

/** What a viewer needs from its publication. */
export interface ViewerTarget {
  readonly host: Host;
  readonly session: TmuxSession;
  readonly readOnly: boolean;
  /** True while the publication is live. */
  isOpen(): boolean;
  tokenMatches(candidate: string): boolean;
}

export interface ViewerOptions {
  authTimeoutMs: number;
  /** Ping interval; a viewer silent for a whole interval is dropped. */
  heartbeatMs: number;
  /** `?ro=1` on the socket URL: can only make the viewer stricter. */
  readOnlyRequested: boolean;
  flowControl?: FlowControlOptions;
}

const DEFAULT_COLS = 80;
const DEFAULT_ROWS = 24;
/** Input typed while the PTY is still opening is held, up to this much. */
const MAX_EARLY_INPUT = 64 * 1024;

/** Compares two tokens in time independent of where they differ (and of their lengths). */
export function tokensEqual(expected: string, candidate: string): boolean {
  const a = createHash("sha256").update(expected).digest();
  const b = createHash("sha256").update(candidate).digest();
  return timingSafeEqual(a, b);
}

/**
 * One browser tab: authenticates, then bridges its own PTY running
 * `tmux attach` to the socket. Closing either side ends the other; tmux
 * only detaches this client, the agent keeps running.
 */
export class Viewer {
  readonly #ws: WebSocket;
  readonly #target: ViewerTarget;
  readonly #options: ViewerOptions;
  readonly #onClosed: (viewer: Viewer) => void;
  #state: "auth" | "opening" | "open" | "closed" = "auth";
  #readOnly: boolean;
  #pty: PtyHandle | null = null;
  #ptyExited = false;
  #flow: FlowControl | null = null;
  #authTimer: NodeJS.Timeout | null;
  readonly #heartbeat: NodeJS.Timeout;
  #answered = true;
  #earlyInput: string[] = [];
  #earlyInputSize = 0;
  #pendingResize: { cols: number; rows: number } | null = null;

  constructor(ws: WebSocket, target: ViewerTarget, options: ViewerOptions, onClosed: (viewer: Viewer) => void) {
    this.#ws = ws;
    this.#target = target;
    this.#options = options;
    this.#onClosed = onClosed;
    this.#readOnly = target.readOnly || options.readOnlyRequested;
    this.#authTimer = setTimeout(
      () => this.close(CloseCode.policyViolation, "authentication timed out"),
      options.authTimeoutMs,
    );
    // A client that vanished without closing (a sleeping laptop, a dropped network) would otherwise keep
    // its tmux client attached, and tmux sizes the window for every client, until TCP gives up hours later.
    this.#heartbeat = setInterval(() => this.#beat(), options.heartbeatMs).unref();
    ws.on("pong", () => {
      this.#answered = true;
    });
    ws.on("message", (data, isBinary) => this.#onMessage(data, isBinary));
    ws.on("close", () => this.#dispose());
    ws.on("error", () => this.#dispose());
  }

  get readOnly(): boolean {
    return this.#readOnly;
  }

  /** Closes the socket (and so the PTY). */
  close(code: number, reason: string): void {
    if (this.#ws.readyState === OPEN || this.#ws.readyState === CONNECTING) this.#ws.close(code, reason);
    this.#dispose();
  }

  #onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.#state === "closed") return;
    const message = isBinary ? null : parseClientMessage(rawToString(data));
    if (!message) {
      this.close(CloseCode.policyViolation, "malformed message");
      return;
    }
    if (this.#state === "auth") {
      if (message.type !== "auth" || !this.#target.tokenMatches(message.token)) {
        this.close(CloseCode.policyViolation, "authentication failed");
        return;
      }
      this.#clearAuthTimer();
      if (!this.#target.isOpen()) {
        this.close(CloseCode.goingAway, "terminal no longer published");
        return;
      }
      this.#state = "opening";
      void this.#openPty(message.cols ?? DEFAULT_COLS, message.rows ?? DEFAULT_ROWS);
      return;
    }
    switch (message.type) {
      case "auth":
        this.close(CloseCode.policyViolation, "already authenticated");
        return;
      case "input":
        if (this.#readOnly) return;
        if (this.#pty) {
          if (!this.#ptyExited) this.#pty.write(message.data);
        } else if (this.#earlyInputSize + message.data.length <= MAX_EARLY_INPUT) {
          this.#earlyInput.push(message.data);
          this.#earlyInputSize += message.data.length;
        }
        return;
      case "resize":
        if (this.#pty) {
          if (!this.#ptyExited) this.#pty.resize(message.cols, message.rows);
        } else {
          this.#pendingResize = { cols: message.cols, rows: message.rows };
        }
        return;
      case "ack":
        this.#flow?.acked(message.chars);
        return;
    }
  }

  async #openPty(cols: number, rows: number): Promise<void> {
    let pty: PtyHandle;
    try {
      pty = await this.#target.host.openPty(attachCommand(this.#target.session, { readOnly: this.#readOnly }), {
        cols,
        rows,
        // tmux only passes UTF-8 through to a client whose locale says UTF-8.
        env: { TERM: "xterm-256color", LC_CTYPE: "C.UTF-8" },
      });
    } catch (error) {
      this.close(
        CloseCode.internalError,
        `could not open the terminal: ${String((error as Error)?.message ?? error).slice(0, 80)}`,
      );
      return;
    }
    if (this.#state === "closed") {
      pty.close();
      return;
    }
    this.#pty = pty;
    this.#state = "open";
    const flow = new FlowControl(pty, this.#options.flowControl);
    this.#flow = flow;
    pty.onData((data) => {
      if (this.#ws.readyState !== OPEN) return;
      flow.sent(data.length);
      this.#ws.send(Buffer.from(data, "utf8"), { binary: true });
    });
    pty.onExit(() => {
      this.#ptyExited = true;
      this.#send({ type: "exit", reason: "session ended" });
      this.close(CloseCode.normal, "session ended");
    });
    this.#send({ type: "ready", readOnly: this.#readOnly });
    if (this.#pendingResize) pty.resize(this.#pendingResize.cols, this.#pendingResize.rows);
    for (const chunk of this.#earlyInput) pty.write(chunk);
    this.#earlyInput = [];
    this.#pendingResize = null;
  }

  #send(message: ServerMessage): void {
    if (this.#ws.readyState === OPEN) this.#ws.send(JSON.stringify(message));
  }

  #beat(): void {
    if (!this.#answered) {
      this.#ws.terminate();
      this.#dispose();
      return;
    }
    this.#answered = false;
    if (this.#ws.readyState === OPEN) this.#ws.ping();
  }

  #clearAuthTimer(): void {
    if (this.#authTimer) clearTimeout(this.#authTimer);
    this.#authTimer = null;
  }

  #dispose(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#clearAuthTimer();
    clearInterval(this.#heartbeat);
    this.#earlyInput = [];
    if (this.#pty) {
      this.#ptyExited = true;
      this.#pty.close();
    }
    this.#onClosed(this);
  }
}

function rawToString(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
  return data.toString("utf8");
}
