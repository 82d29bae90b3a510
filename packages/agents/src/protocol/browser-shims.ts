import path from "node:path";
import { shellQuote } from "@optio/host";
import type { BrowserMode } from "../spec/browser-mode.js";

/** The commands agents (and the tools they run) use to open a web page. */
export const BROWSER_OPENERS = ["xdg-open", "gio", "open", "sensible-browser", "www-browser"] as const;

export interface BrowserShimFile {
  /** Absolute path on the host. */
  path: string;
  content: string;
  mode: number;
}

export interface BrowserShims {
  files: BrowserShimFile[];
  env: Record<string, string>;
  pathPrepend: string[];
}

export interface BrowserShimOptions {
  /** Directory on the host the shims are written to. */
  shimDir: string;
  /** Absolute path of optio.log on the host. */
  logPath: string;
}

function suppressScript(name: string): string {
  return ["#!/bin/sh", `# ${name}: opening a browser is disabled for this optio task.`, "exit 0", ""].join("\n");
}

/**
 * Appends one `BROWSER: '<url>'` line per URL argument. The URL is wrapped in
 * single quotes as it is (parseLogLine strips exactly one outer pair), so any
 * quote, space or `&` inside it survives; a URL with a line break is refused
 * because it would split the line.
 */
function redirectScript(name: string, logPath: string): string {
  const lines = ["#!/bin/sh", `# ${name}: hands URLs to optio through optio.log instead of opening a browser.`];
  if (name === "gio") {
    lines.push(
      'if [ "$1" != open ]; then',
      '  echo "gio: only \\"gio open\\" is available in this task" >&2',
      "  exit 1",
      "fi",
      "shift",
    );
  }
  lines.push(
    `log=${shellQuote(logPath)}`,
    "cr=$(printf '\\r')",
    "status=0",
    'for url in "$@"; do',
    "  case $url in",
    "    -*) continue ;;",
    `    *"$cr"* | *'`,
    `'*)`,
    `      echo "${name}: refusing a URL that contains a line break" >&2`,
    "      status=1",
    "      continue ;;",
    "  esac",
    `  printf "BROWSER: '%s'\\n" "$url" >> "$log" || status=1`,
    "done",
    'exit "$status"',
    "",
  );
  return lines.join("\n");
}

/**
 * The opener shims for a browser mode: `ignore` needs none; `suppress` and
 * `redirect` put scripts named after every common opener first on PATH and
 * point `$BROWSER` at the xdg-open one.
 */
export function browserShims(mode: BrowserMode, options: BrowserShimOptions): BrowserShims {
  if (mode === "ignore") return { files: [], env: {}, pathPrepend: [] };
  const { shimDir, logPath } = options;
  const files = BROWSER_OPENERS.map((name) => ({
    path: path.posix.join(shimDir, name),
    content: mode === "suppress" ? suppressScript(name) : redirectScript(name, logPath),
    mode: 0o755,
  }));
  return { files, env: { BROWSER: path.posix.join(shimDir, "xdg-open") }, pathPrepend: [shimDir] };
}
