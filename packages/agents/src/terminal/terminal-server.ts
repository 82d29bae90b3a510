import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { OptioConfigError, type Host } from "@optio/host";
import type { WebSocketServer } from "ws";
import * as z from "zod/mini";
import type { TmuxSession } from "./tmux.js";
import { bareOrigin } from "../spec/origin.js";
import { ASSETS, pageCsp, renderPage } from "./page-assets.js";
import { CloseCode } from "./protocol.js";
import { tokensEqual, Viewer } from "./viewer.js";
import "../spec/zod-locale.js";

export const terminalServerOptionsSchema = z.object({
  /** Address the HTTP/WebSocket server listens on. */
  bindAddress: z._default(z.string().check(z.minLength(1)), "127.0.0.1"),
  /** Port to listen on; 0 picks a free one. */
  port: z._default(z.int().check(z.gte(0), z.lte(65535)), 0),
  /** How long a new socket has to send its auth frame. */
  authTimeoutMs: z._default(z.int().check(z.positive()), 5000),
  /** Accept sockets with no Origin header (non-browser clients). Off by default: such a client proves nothing about where it runs. */
  acceptMissingOrigin: z._default(z.boolean(), false),
  /** Unacknowledged characters per viewer above which its PTY is paused. */
  highWater: z._default(z.int().check(z.positive()), 100_000),
  /** Unacknowledged characters below which a paused PTY resumes. */
  lowWater: z._default(z.int().check(z.gte(0)), 5_000),
  /** How often each viewer is pinged; one that has not answered by the next ping is dropped, closing its PTY. */
  heartbeatMs: z._default(z.int().check(z.positive()), 30_000),
});
/** Where a TerminalServer listens and how it paces viewers. */
export type TerminalServerOptions = z.input<typeof terminalServerOptionsSchema>;

export const publishOptionsSchema = z.object({
  /** Every viewer of this task is read-only (tmux `attach -r`, and the server drops their input). */
  readOnly: z._default(z.boolean(), false),
  /** Origins (scheme://host[:port]) allowed to frame the page and to open its socket, besides the page's own. */
  allowedOrigins: z._default(z.array(z.string()), []),
});
/** How one task's terminal is published: read-only or not, and which origins may frame it. */
export type PublishOptions = z.input<typeof publishOptionsSchema>;

/** The tmux session a task's agent runs in, and the host it runs on. */
export interface TerminalTarget {
  host: Host;
  session: TmuxSession;
}

/** A task's terminal as served: everything a page needs is in `url`. */
export interface PublishedTerminal {
  readonly taskId: string;
  /** `http://127.0.0.1:<port>/t/<taskId>#token=<token>`; the token rides in the fragment, which never reaches a server log. */
  readonly url: string;
  readonly token: string;
  /** Unpublishes the task and disconnects its viewers (their tmux clients detach; the agent keeps running). Idempotent. */
  close(): Promise<void>;
}

const TASK_ID = /^[A-Za-z0-9._-]{1,128}$/;
const PAGE_PATH = /^\/t\/([^/]+)\/?$/;
const SOCKET_PATH = /^\/t\/([^/]+)\/ws$/;

class Publication {
  readonly viewers = new Set<Viewer>();
  #open = true;

  constructor(
    readonly taskId: string,
    readonly host: Host,
    readonly session: TmuxSession,
    readonly readOnly: boolean,
    readonly allowedOrigins: readonly string[],
    readonly token: string,
  ) {}

  isOpen(): boolean {
    return this.#open;
  }

  tokenMatches(candidate: string): boolean {
    return tokensEqual(this.token, candidate);
  }

  shutdown(reason: string): void {
    this.#open = false;
    for (const viewer of [...this.viewers]) viewer.close(CloseCode.goingAway, reason);
  }
}

function normalizeOrigin(value: string): string {
  const origin = bareOrigin(value);
  if (origin === null)
    throw new OptioConfigError(
      `allowedOrigins: ${JSON.stringify(value)} is not an origin (http(s)://host[:port], no path)`,
    );
  return origin;
}

function urlHostFor(bindAddress: string): string {
  if (bindAddress === "0.0.0.0" || bindAddress === "::" || bindAddress === "127.0.0.1") return "127.0.0.1";
  return bindAddress.includes(":") ? `[${bindAddress}]` : bindAddress;
}

/**
 * Serves every published task's terminal from one worker process: the page
 * (`GET /t/<taskId>`), its static assets (`/assets/*`) and the viewer socket
 * (`/t/<taskId>/ws`). Each authenticated viewer gets its own PTY attached to
 * the task's tmux session.
 */
export class TerminalServer {
  readonly #http: Server;
  /** Made at the first viewer's upgrade: a worker whose terminals nobody opens never loads ws. */
  #wss: Promise<WebSocketServer> | null = null;
  #closed = false;
  readonly #options: z.output<typeof terminalServerOptionsSchema>;
  readonly #tasks = new Map<string, Publication>();
  readonly #ownOrigins: ReadonlySet<string>;
  readonly port: number;
  /** The origin the pages are served from, e.g. `http://127.0.0.1:41234`. */
  readonly origin: string;

  private constructor(http: Server, options: z.output<typeof terminalServerOptionsSchema>) {
    this.#http = http;
    this.#options = options;
    this.port = (http.address() as AddressInfo).port;
    this.origin = `http://${urlHostFor(options.bindAddress)}:${this.port}`;
    this.#ownOrigins = new Set([
      this.origin,
      `http://127.0.0.1:${this.port}`,
      `http://localhost:${this.port}`,
      `http://[::1]:${this.port}`,
    ]);
    // A handler that throws would end the whole worker: anything unforeseen in a request becomes a 400.
    http.on("request", (req, res) => {
      try {
        this.#onRequest(req, res);
      } catch {
        if (res.headersSent) res.destroy();
        else
          res.writeHead(400, { "Content-Type": "text/plain; charset=utf-8", Connection: "close" }).end("bad request\n");
      }
    });
    http.on("upgrade", (req, socket, head) => {
      try {
        this.#onUpgrade(req, socket, head);
      } catch {
        refuse(socket, 400, "Bad Request");
      }
    });
  }

  static async start(options: TerminalServerOptions = {}): Promise<TerminalServer> {
    const parsed = z.safeParse(terminalServerOptionsSchema, options);
    if (!parsed.success) throw new OptioConfigError(`terminal server options: ${z.prettifyError(parsed.error)}`);
    if (parsed.data.lowWater >= parsed.data.highWater)
      throw new OptioConfigError("terminal server options: lowWater must be below highWater");
    const http = createServer();
    await new Promise<void>((resolve, reject) => {
      http.once("error", reject);
      http.listen(parsed.data.port, parsed.data.bindAddress, () => {
        http.off("error", reject);
        resolve();
      });
    });
    return new TerminalServer(http, parsed.data);
  }

  /**
   * Serves `taskId`'s terminal under a fresh random token. Publishing a task
   * again replaces the earlier publication and disconnects its viewers.
   */
  publish(taskId: string, target: TerminalTarget & PublishOptions): PublishedTerminal {
    if (!TASK_ID.test(taskId) || taskId === "." || taskId === "..") {
      throw new OptioConfigError(`taskId ${JSON.stringify(taskId)} must be 1-128 characters of [A-Za-z0-9._-]`);
    }
    const parsed = z.safeParse(publishOptionsSchema, {
      readOnly: target.readOnly,
      allowedOrigins: target.allowedOrigins,
    });
    if (!parsed.success) throw new OptioConfigError(`publish options: ${z.prettifyError(parsed.error)}`);
    const origins = parsed.data.allowedOrigins.map(normalizeOrigin);
    const token = randomBytes(32).toString("base64url");
    const publication = new Publication(taskId, target.host, target.session, parsed.data.readOnly, origins, token);
    this.#tasks.get(taskId)?.shutdown("terminal republished");
    this.#tasks.set(taskId, publication);
    return {
      taskId,
      token,
      url: `${this.origin}/t/${taskId}#token=${token}`,
      close: async () => {
        if (this.#tasks.get(taskId) === publication) this.#tasks.delete(taskId);
        publication.shutdown("terminal closed");
      },
    };
  }

  /** How many authenticated-or-authenticating viewers a task has right now. */
  viewerCount(taskId: string): number {
    return this.#tasks.get(taskId)?.viewers.size ?? 0;
  }

  /** Unpublishes every task, disconnects every viewer and stops listening. */
  async close(): Promise<void> {
    for (const publication of this.#tasks.values()) publication.shutdown("terminal server stopping");
    this.#tasks.clear();
    this.#closed = true;
    const wss = await this.#wss?.catch(() => null);
    for (const client of wss?.clients ?? []) client.terminate();
    wss?.close();
    await new Promise<void>((resolve) => {
      this.#http.close(() => resolve());
      this.#http.closeAllConnections();
    });
  }

  /** Lets the process exit while the server is idle. */
  unref(): this {
    this.#http.unref();
    return this;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const baseHeaders = {
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
      "Cross-Origin-Resource-Policy": "same-origin",
    };
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { ...baseHeaders, Allow: "GET, HEAD" }).end();
      return;
    }
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const assetName = path.startsWith("/assets/") ? path.slice("/assets/".length) : null;
    const asset = assetName !== null && Object.hasOwn(ASSETS, assetName) ? ASSETS[assetName] : undefined;
    if (asset) {
      res.writeHead(200, { ...baseHeaders, "Content-Type": asset.contentType, "Cache-Control": "no-cache" });
      if (req.method === "HEAD") {
        res.end();
      } else if ("text" in asset.source) {
        res.end(asset.source.text);
      } else {
        const stream = createReadStream(asset.source.file);
        stream.on("error", () => res.destroy());
        stream.pipe(res);
      }
      return;
    }
    const page = PAGE_PATH.exec(path);
    const publication = page ? this.#tasks.get(decodeTaskId(page[1] ?? "")) : undefined;
    if (!publication) {
      res.writeHead(404, { ...baseHeaders, "Content-Type": "text/plain; charset=utf-8" }).end("not found\n");
      return;
    }
    res.writeHead(200, {
      ...baseHeaders,
      "Content-Type": "text/html; charset=utf-8",
      "Cache-Control": "no-store",
      "Content-Security-Policy": pageCsp(publication.allowedOrigins),
    });
    res.end(req.method === "HEAD" ? undefined : renderPage(publication.taskId));
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = parseRequestUrl(req.url);
    const match = url && SOCKET_PATH.exec(url.pathname);
    const publication = match ? this.#tasks.get(decodeTaskId(match[1] ?? "")) : undefined;
    if (!url || !publication) {
      refuse(socket, 404, "Not Found");
      return;
    }
    const origin = req.headers.origin;
    const originOk =
      origin === undefined
        ? this.#options.acceptMissingOrigin
        : this.#ownOrigins.has(origin) || publication.allowedOrigins.includes(origin);
    if (!originOk) {
      refuse(socket, 403, "Forbidden");
      return;
    }
    this.#wss ??= import("ws").then(
      ({ WebSocketServer }) =>
        new WebSocketServer({ noServer: true, maxPayload: 2 * 1024 * 1024, perMessageDeflate: false }),
    );
    this.#wss.then(
      (wss) => {
        if (this.#closed || socket.destroyed) {
          socket.destroy();
          return;
        }
        this.#accept(wss, req, socket, head, publication, url);
      },
      () => refuse(socket, 500, "Internal Server Error"),
    );
  }

  #accept(
    wss: WebSocketServer,
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    publication: Publication,
    url: URL,
  ): void {
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (!publication.isOpen()) {
        ws.close(CloseCode.goingAway, "terminal no longer published");
        return;
      }
      const viewer = new Viewer(
        ws,
        publication,
        {
          authTimeoutMs: this.#options.authTimeoutMs,
          heartbeatMs: this.#options.heartbeatMs,
          readOnlyRequested: url.searchParams.get("ro") === "1",
          flowControl: { highWater: this.#options.highWater, lowWater: this.#options.lowWater },
        },
        (closed) => publication.viewers.delete(closed),
      );
      publication.viewers.add(viewer);
    });
  }
}

/** The request target as a URL; null for one no URL parser accepts (`//`, `http://[`). */
function parseRequestUrl(target: string | undefined): URL | null {
  try {
    return new URL(target ?? "/", "http://terminal.invalid");
  } catch {
    return null;
  }
}

/** The task id a path segment names; broken percent-encoding names none. */
function decodeTaskId(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return "";
  }
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

let shared: Promise<TerminalServer> | null = null;

/**
 * The process-wide server every task publishes to, started on first use on
 * 127.0.0.1 and an ephemeral port. It does not keep the process alive by
 * itself.
 */
export function sharedTerminalServer(): Promise<TerminalServer> {
  if (!shared) {
    const starting = TerminalServer.start().then((server) => server.unref());
    shared = starting;
    starting.catch(() => {
      if (shared === starting) shared = null;
    });
  }
  return shared;
}

/** Stops the shared server if it was started; the next `sharedTerminalServer()` starts a new one. */
export async function closeSharedTerminalServer(): Promise<void> {
  const current = shared;
  shared = null;
  if (current) await (await current).close();
}

/**
 * The one call the session layer makes: serve a task's tmux session on the
 * shared server. Hand `url` to the user (or an iframe); call `close()` when
 * the task ends.
 */
export async function publishTerminal(
  taskId: string,
  target: TerminalTarget,
  options: PublishOptions = {},
): Promise<PublishedTerminal> {
  const server = await sharedTerminalServer();
  return server.publish(taskId, { ...target, ...options });
}
