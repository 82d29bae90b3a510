import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { messageOf, streamEventsOf, type ScriptedTurn } from "./anthropic-messages.js";
import { responseEventsOf, responseOf } from "./openai-responses.js";

export type { ScriptedToolCall, ScriptedTurn, ScriptedUsage } from "./anthropic-messages.js";

export interface ScriptedModelOptions {
  /** The answers to the agent's conversation requests, in order. */
  turns: readonly ScriptedTurn[];
  /** What a conversation request gets once the turns are used up. */
  afterLastTurn?: ScriptedTurn;
  /** What a side request (no tools: titles, summaries, quota probes) gets. */
  sideAnswer?: ScriptedTurn;
  /**
   * Leave conversation requests past the last turn unanswered until `close`:
   * the agent's records then end with the last scripted turn, whenever the
   * test stops it (`afterLastTurn` is not used).
   */
  holdAfterLastTurn?: boolean;
}

export interface RecordedRequest {
  method: string;
  /** The path with its query, e.g. `/v1/messages?beta=true`. */
  path: string;
  headers: IncomingMessage["headers"];
  /** The parsed JSON body, or undefined when there was none or it was not JSON. */
  body: unknown;
  /** The index of the scripted turn this request consumed, or null for side requests, probes and requests past the last turn. */
  turn: number | null;
}

export interface ScriptedModel {
  /** `http://127.0.0.1:<port>`: the agent's API base URL. */
  readonly url: string;
  /** Every request, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  /** How many scripted turns have been answered. */
  readonly turnsUsed: number;
  /** Resolves with the first request (already recorded or arriving later) that matches; rejects after `timeoutMs`. */
  waitForRequest(match: (request: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  close(): Promise<void>;
}

/** The two model APIs the scripted model speaks, by the path an agent posts its conversation to. */
const CONVERSATION_ROUTES = { "/v1/messages": "anthropic", "/v1/responses": "openai" } as const;

function conversationApi(request: Pick<RecordedRequest, "method" | "path">) {
  if (request.method !== "POST") return undefined;
  return CONVERSATION_ROUTES[request.path.split("?")[0] as keyof typeof CONVERSATION_ROUTES];
}

/** A conversation request carries the agent's tools; side requests (titles, summaries, quota probes) do not. */
export function isConversationRequest(request: Pick<RecordedRequest, "method" | "path" | "body">): boolean {
  if (!conversationApi(request)) return false;
  const tools = (request.body as { tools?: unknown } | undefined)?.tools;
  return Array.isArray(tools) && tools.length > 0;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A rough token count, enough for an agent that only wants a number. */
function tokenEstimate(body: unknown): number {
  return Math.max(1, Math.ceil(JSON.stringify(body ?? "").length / 4));
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/**
 * A stand-in for a model API on 127.0.0.1 (an ephemeral port), speaking the
 * Anthropic Messages API (`/v1/messages`, plus `count_tokens`) and the OpenAI
 * Responses API (`/v1/responses`), streamed and plain, from one script: each
 * conversation request gets the next scripted turn, side requests get a
 * harmless answer, and every request is recorded for the test to assert on.
 */
export async function startScriptedModel(options: ScriptedModelOptions): Promise<ScriptedModel> {
  const requests: RecordedRequest[] = [];
  const waiters = new Set<(request: RecordedRequest) => void>();
  let turnsUsed = 0;
  let answered = 0;
  // Message ids unique across servers, as the real API's are: a resumed conversation's turns from two servers stay two turns.
  const serverTag = randomBytes(4).toString("hex");

  function answer(
    res: ServerResponse,
    api: "anthropic" | "openai",
    turn: ScriptedTurn,
    body: { model?: unknown; stream?: unknown },
  ): void {
    answered += 1;
    const id = `scripted_${serverTag}_${answered}`;
    const model = typeof body.model === "string" ? body.model : "scripted-model";
    const whole = api === "anthropic" ? messageOf(turn, id, model) : responseOf(turn, id, model);
    if (body.stream !== true) return sendJson(res, 200, whole);
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.end("content" in whole ? streamEventsOf(whole) : responseEventsOf(whole));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const path = req.url ?? "/";
    const recorded: RecordedRequest = { method: req.method ?? "GET", path, headers: req.headers, body, turn: null };
    const conversation = isConversationRequest(recorded);
    const turn = conversation ? options.turns[turnsUsed] : undefined;
    if (turn) recorded.turn = turnsUsed++;
    requests.push(recorded);
    for (const waiter of waiters) waiter(recorded);

    const route = path.split("?")[0];
    if (recorded.method === "POST" && route === "/v1/messages/count_tokens")
      return sendJson(res, 200, { input_tokens: tokenEstimate(body) });
    // Codex tries a WebSocket to the Responses API first; 426 sends it to plain HTTPS at once, without retries.
    if (req.headers.upgrade?.toLowerCase() === "websocket") {
      res.writeHead(426, { connection: "close" });
      res.end();
      return;
    }
    const api = conversationApi(recorded);
    if (api) {
      const request = (body ?? {}) as { model?: unknown; stream?: unknown };
      if (turn) return answer(res, api, turn, request);
      if (conversation && options.holdAfterLastTurn) return;
      return answer(
        res,
        api,
        conversation
          ? (options.afterLastTurn ?? { text: "Nothing more to do." })
          : (options.sideAnswer ?? { text: "OK" }),
        request,
      );
    }
    // Reachability probes (`HEAD /api/hello`) and anything else an agent asks on the side: a plain yes.
    if (recorded.method === "HEAD") {
      res.writeHead(200);
      res.end();
      return;
    }
    sendJson(res, 200, {});
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { type: "error", error: { type: "api_error", message: String(error) } });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get turnsUsed() {
      return turnsUsed;
    },
    waitForRequest(match, timeoutMs = 60_000) {
      const seen = requests.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new Error(`no matching request to the scripted model within ${timeoutMs} ms (${requests.length} seen)`),
          );
        }, timeoutMs);
        const waiter = (request: RecordedRequest) => {
          if (!match(request)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(request);
        };
        waiters.add(waiter);
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
