// The HTTP pieces both modes of the dashboard share: the page shell, the token check, JSON in and out.
import { timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";

const PAGE = fileURLToPath(new URL("./page.html", import.meta.url));
const MAX_BODY = 64 * 1024;

export function sameToken(given, token) {
  if (typeof given !== "string") return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(text);
}

export async function readJson(req) {
  let size = 0;
  const chunks = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY) throw Object.assign(new Error("request body too large"), { status: 413 });
    chunks.push(chunk);
  }
  if (chunks.length === 0) return {};
  let body;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw badRequest("request body is not JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw badRequest("request body is not a JSON object");
  return body;
}

/** Thrown for a request no route can read (an unparsable target, broken percent-encoding): answered with 400. */
export function badRequest(what) {
  return Object.assign(new Error(what), { status: 400 });
}

/** The request target as a URL; `//` and the like are refused rather than thrown out of the handler. */
export function requestUrl(req) {
  try {
    return new URL(req.url ?? "/", "http://dashboard.invalid");
  } catch {
    throw badRequest("the request target is not a valid path");
  }
}

export function decodeSegment(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest("the path has broken percent-encoding");
  }
}

export function errorText(error) {
  return error instanceof Error ? error.message : String(error);
}

/** The page shell, the one thing served without the token. */
export async function servePage(res) {
  res.writeHead(200, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "content-security-policy":
      "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; frame-src http: https:; connect-src 'self'",
    "referrer-policy": "no-referrer",
  });
  res.end(await readFile(PAGE));
}

/**
 * Serves `handle` on `host:port` (a failure answered as JSON, or the connection cut once the answer has begun), with a
 * keepalive line every 15 s on each open event stream in `streams`. Returns the server, its port and its origin.
 */
export async function serve(handle, { host, port }, streams) {
  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) sendJson(res, error.status ?? 500, { error: errorText(error) });
      else res.destroy();
    });
  });
  await new Promise((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolveListen());
  });
  const heartbeat = setInterval(() => {
    for (const res of streams) res.write(": keepalive\n\n");
  }, 15_000);
  heartbeat.unref();
  server.on("close", () => clearInterval(heartbeat));
  const { port: bound } = server.address();
  return { server, port: bound, origin: `http://${host.includes(":") ? `[${host}]` : host}:${bound}` };
}

/**
 * The request's URL when it carries the token (`Authorization: Bearer …`, or `?token=` for the event stream and
 * downloads); otherwise it is answered here, the page shell (the one thing served without the token) or 401, and
 * the result is null.
 */
export async function admit(req, res, token) {
  const url = requestUrl(req);
  if (req.method === "GET" && (url.pathname === "/" || url.pathname === "/index.html")) {
    await servePage(res);
    return null;
  }
  const header = req.headers.authorization;
  const given = header?.startsWith("Bearer ") ? header.slice(7) : url.searchParams.get("token");
  if (sameToken(given, token)) return url;
  sendJson(res, 401, { error: "missing or wrong token" });
  return null;
}
