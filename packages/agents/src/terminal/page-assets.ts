import { createRequire } from "node:module";

/**
 * The terminal page: HTML, its script and stylesheet, and xterm.js with the
 * fit addon served from node_modules (never a CDN). The page script is kept
 * here as text so it ships inside the bundle with no asset copying; it is
 * plain ES2020 for the browser and runs under a CSP without inline scripts.
 */

const require = createRequire(import.meta.url);

export interface StaticAsset {
  contentType: string;
  /** A file resolved from node_modules at runtime, or text held here. */
  source: { file: string } | { text: string };
}

const PAGE_SCRIPT = String.raw`(function () {
  "use strict";
  var root = document.getElementById("terminal");
  var statusEl = document.getElementById("status");
  var query = new URLSearchParams(location.search);
  var fragment = new URLSearchParams(location.hash.slice(1));
  var token = fragment.get("token") || "";
  var readOnly = query.get("ro") === "1";
  var term = new Terminal({
    cursorBlink: true,
    scrollback: 5000,
    disableStdin: readOnly,
    fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace",
    fontSize: 14
  });
  var fit = new FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(root);
  fit.fit();

  function showStatus(text) {
    statusEl.textContent = text;
    statusEl.hidden = text === "";
  }

  var wsUrl = (location.protocol === "https:" ? "wss:" : "ws:") + "//" + location.host +
    location.pathname.replace(/\/+$/, "") + "/ws" + (readOnly ? "?ro=1" : "");
  var socket = null;
  var decoder = null;
  var ready = false;
  var ended = false;
  var retries = 0;

  // Acknowledge what xterm has actually written, in batches: the worker
  // pauses this viewer's PTY while too much is unacknowledged.
  var pendingAck = 0;
  var ackTimer = null;
  function flushAck() {
    if (ackTimer !== null) { clearTimeout(ackTimer); ackTimer = null; }
    if (pendingAck > 0 && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "ack", chars: pendingAck }));
    }
    pendingAck = 0;
  }
  function written(chars) {
    pendingAck += chars;
    if (pendingAck >= 16384) flushAck();
    else if (ackTimer === null) ackTimer = setTimeout(flushAck, 10);
  }

  function send(message) {
    if (ready && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  function giveUp(reason) {
    term.write("\r\n[disconnected" + (reason ? ": " + reason : "") + "]\r\n");
    showStatus("disconnected" + (reason ? ": " + reason : ""));
  }

  // A dropped connection (a proxy's idle timeout, a network change, a laptop
  // waking up) is retried with backoff for as long as the task is published;
  // the worker refusing this page (bad token, task unpublished) is final.
  function retry() {
    var delay = Math.min(15000, 500 * Math.pow(2, retries));
    retries += 1;
    showStatus("reconnecting…");
    setTimeout(function () {
      fetch(location.pathname, { method: "HEAD", cache: "no-store" }).then(
        function (response) {
          if (response.status === 404) giveUp("terminal no longer published");
          else connect();
        },
        retry
      );
    }, delay);
  }

  function connect() {
    var reconnecting = socket !== null;
    socket = new WebSocket(wsUrl);
    socket.binaryType = "arraybuffer";
    decoder = new TextDecoder();
    pendingAck = 0;
    showStatus(reconnecting ? "reconnecting…" : "connecting…");
    socket.onopen = function () {
      socket.send(JSON.stringify({ type: "auth", token: token, cols: term.cols, rows: term.rows }));
    };
    socket.onmessage = function (event) {
      if (typeof event.data === "string") {
        var message = JSON.parse(event.data);
        if (message.type === "ready") {
          ready = true;
          retries = 0;
          // tmux redraws the whole screen for a new client; start from a clean terminal.
          if (reconnecting) term.reset();
          if (message.readOnly) { readOnly = true; term.options.disableStdin = true; }
          showStatus("");
          send({ type: "resize", cols: term.cols, rows: term.rows });
        } else if (message.type === "exit") {
          ended = true;
          term.write("\r\n[session ended]\r\n");
        }
        return;
      }
      var text = decoder.decode(event.data, { stream: true });
      if (text.length === 0) return;
      var chars = text.length;
      term.write(text, function () { written(chars); });
    };
    socket.onclose = function (event) {
      ready = false;
      if (ended) { showStatus("session ended"); return; }
      if (event.code === 1001 || event.code === 1008) { giveUp(event.reason); return; }
      retry();
    };
  }
  connect();

  term.onData(function (data) { if (!readOnly) send({ type: "input", data: data }); });
  term.onBinary(function (data) { if (!readOnly) send({ type: "input", data: data }); });
  term.onResize(function (size) { send({ type: "resize", cols: size.cols, rows: size.rows }); });

  var fitTimer = null;
  function scheduleFit() {
    if (fitTimer !== null) clearTimeout(fitTimer);
    fitTimer = setTimeout(function () { fitTimer = null; fit.fit(); }, 100);
  }
  window.addEventListener("resize", scheduleFit);
  if (typeof ResizeObserver === "function") new ResizeObserver(scheduleFit).observe(root);
  term.focus();

  // For automation in the same origin (tests, benchmarks); cross-origin
  // embedders cannot reach it.
  window.optioTerminal = { term: term, get socket() { return socket; } };
})();
`;

const PAGE_STYLE = `html, body { margin: 0; padding: 0; height: 100%; background: #000; overflow: hidden; }
#terminal { position: absolute; inset: 4px; }
#status { position: absolute; top: 8px; right: 12px; z-index: 10; padding: 2px 8px; border-radius: 4px;
  font: 12px system-ui, sans-serif; color: #ddd; background: rgba(60, 60, 60, 0.85); }
#status[hidden] { display: none; }
`;

export const ASSETS: Readonly<Record<string, StaticAsset>> = {
  "xterm.js": {
    contentType: "text/javascript; charset=utf-8",
    source: { file: require.resolve("@xterm/xterm/lib/xterm.js") },
  },
  "xterm.css": {
    contentType: "text/css; charset=utf-8",
    source: { file: require.resolve("@xterm/xterm/css/xterm.css") },
  },
  "addon-fit.js": {
    contentType: "text/javascript; charset=utf-8",
    source: { file: require.resolve("@xterm/addon-fit/lib/addon-fit.js") },
  },
  "terminal.js": { contentType: "text/javascript; charset=utf-8", source: { text: PAGE_SCRIPT } },
  "terminal.css": { contentType: "text/css; charset=utf-8", source: { text: PAGE_STYLE } },
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page for one task; it holds nothing secret (the token stays in the URL fragment). */
export function renderPage(taskId: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(taskId)} · optio terminal</title>
<link rel="stylesheet" href="/assets/xterm.css">
<link rel="stylesheet" href="/assets/terminal.css">
</head>
<body>
<div id="status" role="status" hidden></div>
<div id="terminal"></div>
<script src="/assets/xterm.js"></script>
<script src="/assets/addon-fit.js"></script>
<script src="/assets/terminal.js"></script>
</body>
</html>
`;
}

/**
 * The page's Content-Security-Policy: scripts only from this origin (no
 * inline script at all), sockets only back to it, framing only by itself and
 * the task's allowed origins. Inline styles stay allowed because xterm's DOM
 * renderer injects <style> elements for its theme and cell sizes.
 */
export function pageCsp(frameAncestors: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${["'self'", ...frameAncestors].join(" ")}`,
  ].join("; ");
}
