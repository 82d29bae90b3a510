import type { BrowserMode } from "../spec/browser-mode.js";

/** The keywords an agent may start an optio.log line with. */
export const LOG_KEYWORDS = [
  "STATUS",
  "DELIVERABLE",
  "DONE",
  "ERROR",
  "BROWSER",
  "ATTENTION",
  "DOMAIN_MESSAGE",
] as const;
export type LogKeyword = (typeof LOG_KEYWORDS)[number];

/** What one optio.log line means. */
export type LogEvent =
  /** percent is 0–100, or null when the line gave none. */
  | { type: "status"; percent: number | null; message: string }
  /** The path exactly as written (trimmed); resolveDeliverablePath checks it. */
  | { type: "deliverable"; path: string }
  | { type: "done"; summary?: string }
  | { type: "error"; message: string }
  /** An http(s) URL, only in `redirect` mode. */
  | { type: "browser"; url: string }
  | { type: "attention"; reason: string }
  | { type: "domain"; keyword: string; data: unknown }
  /** A well-formed keyword line that has no effect in this mode. */
  | { type: "ignored"; keyword: LogKeyword; reason: string }
  /** A keyword line that could not be understood; the session reports it and drops it. */
  | { type: "invalid"; keyword: LogKeyword; reason: string }
  /** Anything that is not a keyword line, blank lines included. */
  | { type: "text"; text: string };

export const DEFAULT_ERROR_MESSAGE = "the agent reported an error without a message";
export const DEFAULT_ATTENTION_REASON = "the agent asked for attention without a reason";

const DOMAIN_KEYWORD = /^[A-Za-z0-9_.-]+/;
// Anchored with bounded repeats: a 10 MiB line of digits costs no more than a short one.
const PERCENT = /^(-?\d{1,16}(?:\.\d{1,16})?)[ \t]*%/;

function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * Finds `KEYWORD` or `KEYWORD: …` at `start`; returns the text after the colon
 * (or "" for a bare keyword), or null when the line does not hold this keyword.
 */
function keywordPayload(line: string, start: number, keyword: string): string | null {
  if (!line.startsWith(keyword, start)) return null;
  const after = start + keyword.length;
  if (after === line.length) return "";
  if (line.charCodeAt(after) === 0x3a /* : */) return line.slice(after + 1).trim();
  for (let i = after; i < line.length; i++) {
    if (!isBlank(line.charCodeAt(i))) return null;
  }
  return "";
}

function stripQuotes(value: string): string {
  if (value.length >= 2) {
    const first = value[0];
    if ((first === "'" || first === '"') && value[value.length - 1] === first) return value.slice(1, -1);
  }
  return value;
}

// C0 controls and DEL never belong in a URL handed to a browser.
function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function parseStatus(payload: string): LogEvent {
  if (payload === "")
    return { type: "invalid", keyword: "STATUS", reason: "STATUS needs a percentage, a message or both" };
  const match = PERCENT.exec(payload);
  if (!match) return { type: "status", percent: null, message: payload };
  const percent = Math.min(100, Math.max(0, Math.round(Number(match[1]))));
  return { type: "status", percent, message: payload.slice(match[0].length).trim() };
}

function parseBrowser(payload: string, mode: BrowserMode): LogEvent {
  if (mode !== "redirect") {
    return { type: "ignored", keyword: "BROWSER", reason: `browser requests have no effect in ${mode} mode` };
  }
  const url = stripQuotes(payload).trim();
  if (url === "") return { type: "invalid", keyword: "BROWSER", reason: "BROWSER needs a URL" };
  if (hasControlCharacter(url))
    return { type: "invalid", keyword: "BROWSER", reason: "the URL contains control characters" };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { type: "invalid", keyword: "BROWSER", reason: "not a valid URL" };
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return {
      type: "invalid",
      keyword: "BROWSER",
      reason: `only http and https URLs may be opened, not ${parsed.protocol}`,
    };
  }
  return { type: "browser", url };
}

function parseDomain(payload: string): LogEvent {
  const match = DOMAIN_KEYWORD.exec(payload);
  if (!match)
    return {
      type: "invalid",
      keyword: "DOMAIN_MESSAGE",
      reason: "DOMAIN_MESSAGE needs a keyword made of letters, digits, _ . -",
    };
  const keyword = match[0];
  const rest = payload.slice(keyword.length);
  if (rest === "")
    return { type: "invalid", keyword: "DOMAIN_MESSAGE", reason: `DOMAIN_MESSAGE ${keyword} has no JSON data` };
  if (!isBlank(rest.charCodeAt(0))) {
    return {
      type: "invalid",
      keyword: "DOMAIN_MESSAGE",
      reason: "the DOMAIN_MESSAGE keyword must be followed by a space and JSON data",
    };
  }
  try {
    return { type: "domain", keyword, data: JSON.parse(rest) as unknown };
  } catch (error) {
    return {
      type: "invalid",
      keyword: "DOMAIN_MESSAGE",
      reason: `DOMAIN_MESSAGE ${keyword} data is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

/**
 * Reads one line of optio.log. Keywords are case-sensitive and must open the
 * line (leading blanks allowed), either alone or followed by a colon; a
 * trailing `\r` from CRLF endings is dropped first. Never throws.
 */
export function parseLogLine(line: string, mode: BrowserMode): LogEvent {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  let start = 0;
  while (start < text.length && isBlank(text.charCodeAt(start))) start++;
  // Every keyword starts with an upper-case letter in A–S; anything else is text at once.
  const first = text.charCodeAt(start);
  if (!(first >= 0x41 && first <= 0x53)) return { type: "text", text };

  for (const keyword of LOG_KEYWORDS) {
    const payload = keywordPayload(text, start, keyword);
    if (payload === null) continue;
    switch (keyword) {
      case "STATUS":
        return parseStatus(payload);
      case "DELIVERABLE":
        return payload === ""
          ? { type: "invalid", keyword, reason: "DELIVERABLE needs a path" }
          : { type: "deliverable", path: payload };
      case "DONE":
        return payload === "" ? { type: "done" } : { type: "done", summary: payload };
      case "ERROR":
        return { type: "error", message: payload === "" ? DEFAULT_ERROR_MESSAGE : payload };
      case "BROWSER":
        return parseBrowser(payload, mode);
      case "ATTENTION":
        return { type: "attention", reason: payload === "" ? DEFAULT_ATTENTION_REASON : payload };
      case "DOMAIN_MESSAGE":
        return parseDomain(payload);
    }
  }
  return { type: "text", text };
}
