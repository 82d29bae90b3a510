import type { Host, PtyHandle, PtyOptions } from "@optio/host";
import { chromium, type Browser, type Page } from "playwright-core";
import WebSocket from "ws";

/** Polls `probe` until it returns a truthy value; fails after `timeoutMs` with the last value seen. */
export async function waitFor<T>(
  probe: () => Promise<T> | T,
  what: string,
  timeoutMs = 15_000,
  everyMs = 50,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A Host whose openPty calls are counted, so a test can prove a refused viewer opened none. */
export function countingPtys(host: Host): { host: Host; opened: () => number } {
  let opened = 0;
  const counted = new Proxy(host, {
    get(target, key, receiver) {
      if (key === "openPty") {
        return (command: string, options: PtyOptions): Promise<PtyHandle> => {
          opened += 1;
          return target.openPty(command, options);
        };
      }
      const value = Reflect.get(target, key, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { host: counted, opened: () => opened };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** The rows xterm has rendered, as text. */
export async function screenText(page: Page): Promise<string> {
  return page.locator(".xterm-rows").innerText();
}

export async function waitForScreen(page: Page, needle: string | RegExp, timeoutMs = 15_000): Promise<string> {
  return waitFor(
    async () => {
      const text = await screenText(page).catch(() => "");
      return (typeof needle === "string" ? text.includes(needle) : needle.test(text)) ? text : "";
    },
    `the page to show ${String(needle)}`,
    timeoutMs,
  );
}

/** The same URL with `?ro=1` before the fragment. */
export function readOnlyUrl(url: string): string {
  const [base, fragment] = url.split("#");
  return `${base}?ro=1#${fragment}`;
}

export interface SocketOutcome {
  /** HTTP status when the upgrade was refused. */
  status?: number;
  /** Close code when the socket opened and was then closed. */
  closeCode?: number;
  received: number;
  /** The server said `ready` (a PTY was opened for this client). */
  sawReady: boolean;
}

/**
 * Opens the task's socket as a non-browser client would, sends `frames`
 * once open, and reports how it ended.
 */
export function probeSocket(
  wsUrl: string,
  options: { origin?: string; frames?: string[]; timeoutMs?: number; closeAfterReady?: boolean },
): Promise<SocketOutcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, options.origin === undefined ? {} : { origin: options.origin });
    let received = 0;
    let sawReady = false;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`socket to ${wsUrl} neither refused nor closed within ${options.timeoutMs ?? 10_000} ms`));
    }, options.timeoutMs ?? 10_000);
    ws.on("unexpected-response", (_req, res) => {
      clearTimeout(timer);
      resolve({ status: res.statusCode, received, sawReady });
      res.resume();
      ws.terminate();
    });
    ws.on("open", () => {
      for (const frame of options.frames ?? []) ws.send(frame);
    });
    ws.on("message", (data, isBinary) => {
      received += 1;
      if (!isBinary && (JSON.parse(String(data)) as { type?: string }).type === "ready") {
        sawReady = true;
        if (options.closeAfterReady) ws.close();
      }
    });
    ws.on("close", (code) => {
      clearTimeout(timer);
      resolve({ closeCode: code, received, sawReady });
    });
    ws.on("error", () => undefined);
  });
}

export function socketUrl(pageUrl: string): string {
  const url = new URL(pageUrl);
  return `ws://${url.host}${url.pathname}/ws`;
}
