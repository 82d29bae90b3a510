import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Host, LocalHost } from "@optio/host";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import WebSocket from "ws";
import { CloseCode } from "./protocol.js";
import { TerminalServer, type PublishedTerminal } from "./terminal-server.js";
import {
  countingPtys,
  launchChromium,
  probeSocket,
  readOnlyUrl,
  socketUrl,
  waitFor,
  waitForScreen,
} from "./test-browser.js";
import {
  hasTmuxSession,
  paneState,
  readScreen,
  startTmuxSession,
  stopTmuxSession,
  tmuxSessionFor,
  type TmuxSession,
} from "./tmux.js";

// The terminal scenarios a user meets in the browser, shared by the test files that run them on each kind of host.

const PROGRAM = `printf 'hello from the agent\\n'
while IFS= read -r line; do
  case "$line" in
    size) printf 'size=%s\\n' "$(stty size)" ;;
    *) printf 'got <%s>\\n' "$line" ;;
  esac
done
`;

async function startProgram(host: Host, session: TmuxSession): Promise<void> {
  await host.writeText(`${host.workdir}/program.sh`, PROGRAM);
  await startTmuxSession(host, session, "bash program.sh", host.workdir);
  await waitFor(async () => (await readScreen(host, session)).includes("hello from the agent"), "the program to start");
}

/** With a client that never acknowledges, output stops near the high-water mark; an ack lets it flow again. */
export async function expectFlowControl(host: Host): Promise<void> {
  const flood: TmuxSession = { socket: `${host.taskDir}/flood.sock`, name: "flood" };
  await startTmuxSession(host, flood, "yes 'flooding the terminal'", host.workdir);
  const small = await TerminalServer.start({ highWater: 20_000, lowWater: 1_000 });
  try {
    const target = small.publish("flood", { host, session: flood });
    let chars = 0;
    let lastChange = Date.now();
    const ws = new WebSocket(socketUrl(target.url), { origin: small.origin });
    ws.on("message", (data, isBinary) => {
      if (!isBinary) return;
      chars += (data as Buffer).toString("utf8").length;
      lastChange = Date.now();
    });
    await new Promise<void>((resolve, reject) => {
      ws.on("open", () => {
        ws.send(JSON.stringify({ type: "auth", token: target.token, cols: 100, rows: 30 }));
        resolve();
      });
      ws.on("error", reject);
    });
    await waitFor(() => chars > 0 && Date.now() - lastChange > 750, "output to stall without acks", 15_000);
    const stalledAt = chars;
    // A paused PTY stops at the high-water mark plus what was already in flight.
    expect(stalledAt).toBeGreaterThan(20_000);
    expect(stalledAt).toBeLessThan(20_000 + 200_000);
    ws.send(JSON.stringify({ type: "ack", chars: stalledAt }));
    await waitFor(() => chars > stalledAt + 20_000, "output to resume after the ack", 15_000);
    ws.close();
  } finally {
    await small.close();
    await stopTmuxSession(host, flood);
  }
}

/** What every page scenario needs: a program in tmux on some host, published by a server, and the browser. */
export interface Published {
  browser: Browser;
  raw: Host;
  counted: ReturnType<typeof countingPtys>;
  session: TmuxSession;
  server: TerminalServer;
  published: PublishedTerminal;
  taskId: string;
}

/** Launches Chromium and makes a scratch dir before the file's tests, and removes both after them. */
export function useBrowserAndRoot(): { browser: () => Browser; root: () => string } {
  let browser: Browser | undefined;
  let root: string | undefined;
  beforeAll(async () => {
    browser = await launchChromium();
    root = await mkdtemp(join(tmpdir(), "optio-terminal-"));
  });
  afterAll(async () => {
    await browser?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });
  const defined = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is read before beforeAll ran`);
    return value;
  };
  return { browser: () => defined(browser, "the browser"), root: () => defined(root, "the scratch dir") };
}

/** Publishes the test program on the host `makeHost` gives before the enclosing describe's tests, and undoes it after. */
export function useProgram(makeHost: () => Promise<Host>, taskId: string, browser: () => Browser): () => Published {
  let raw: Host | undefined;
  let fixture: Published | undefined;
  beforeAll(async () => {
    raw = await makeHost();
    fixture = await publishProgram(browser(), raw, taskId);
  });
  afterAll(async () => {
    await unpublishProgram(raw, fixture);
  });
  return () => {
    if (!fixture) throw new Error("the published program is read before beforeAll ran");
    return fixture;
  };
}

/** useProgram on this machine, the task dir under the file's scratch dir. */
export function useLocalProgram(files: ReturnType<typeof useBrowserAndRoot>): () => Published {
  const makeHost = async () =>
    new LocalHost({
      consumer: "optio-terminal-test",
      processId: "local-task",
      env: { OPTIO_TERMINAL_TEST_TASK_ROOT: files.root() },
    });
  return useProgram(makeHost, "local-task", files.browser);
}

/** Types `line` into the page and Enter, and waits for the program's echo of it. */
export async function typeLine(page: Page, line: string): Promise<void> {
  await page.locator(".xterm").click();
  await page.keyboard.type(line);
  await page.keyboard.press("Enter");
  await waitForScreen(page, `got <${line}>`);
}

/** Connects `raw`, starts the test program there in tmux and publishes it under `taskId` on a server of its own. */
export async function publishProgram(browser: Browser, raw: Host, taskId: string): Promise<Published> {
  await raw.connect();
  const counted = countingPtys(raw);
  const session = tmuxSessionFor(raw);
  await startProgram(raw, session);
  const server = await TerminalServer.start();
  return {
    browser,
    raw,
    counted,
    session,
    server,
    published: server.publish(taskId, { host: counted.host, session }),
    taskId,
  };
}

/** Undoes publishProgram, whichever part of it had happened. */
export async function unpublishProgram(raw: Host | undefined, fixture: Partial<Published> | undefined): Promise<void> {
  await fixture?.published?.close();
  await fixture?.server?.close();
  if (raw && fixture?.session) await stopTmuxSession(raw, fixture.session).catch(() => undefined);
  await raw?.disconnect();
}

/** Opens a page of `browser` for `use`, and closes it whatever happens, so a failure leaves no viewer behind. */
async function withPage(browser: Browser, use: (page: Page) => Promise<void>): Promise<void> {
  const page = await browser.newPage();
  try {
    await use(page);
  } finally {
    await page.close();
  }
}

/**
 * The scenarios run against each kind of host: typing, a second page, a
 * read-only page, every page leaving, and refused connections. `fixture` is
 * read when each test runs, after beforeAll.
 */
export function pageScenarios(fixture: () => Published): void {
  it("shows the program's output, sends typed keys to it, and shares the screen between pages", async () => {
    const { browser, raw, counted, session, server, published, taskId } = fixture();
    expect(published.url).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/t/${taskId}#token=[A-Za-z0-9_-]{43}$`),
    );
    const before = counted.opened();
    await withPage(browser, (page) =>
      withPage(browser, async (second) => {
        await page.goto(published.url);
        await waitForScreen(page, "hello from the agent");

        await typeLine(page, "typed in the page");
        expect(await readScreen(raw, session)).toContain("got <typed in the page>");

        await second.goto(published.url);
        await waitForScreen(second, "got <typed in the page>");
        expect(server.viewerCount(taskId)).toBe(2);
        // One PTY (one `tmux attach`) per page.
        expect(counted.opened()).toBe(before + 2);
      }),
    );
    await waitFor(() => server.viewerCount(taskId) === 0, "both viewers to leave");
  });

  it("keeps a read-only page from typing", async () => {
    const { browser, raw, session, published } = fixture();
    await withPage(browser, (writer) =>
      withPage(browser, async (reader) => {
        await writer.goto(published.url);
        await waitForScreen(writer, "hello from the agent");
        await reader.goto(readOnlyUrl(published.url));
        await waitForScreen(reader, "hello from the agent");
        await reader.locator(".xterm").click();
        await reader.keyboard.type("from the reader");
        await reader.keyboard.press("Enter");
        await writer.locator(".xterm").click();
        await writer.keyboard.type("from the writer");
        await writer.keyboard.press("Enter");
        await waitForScreen(reader, "got <from the writer>");
        const screen = await readScreen(raw, session);
        expect(screen).toContain("got <from the writer>");
        expect(screen).not.toContain("from the reader");
      }),
    );
  });

  it("leaves the program running when every page closes, and a new page sees the current screen", async () => {
    const { browser, raw, session, server, published, taskId } = fixture();
    await withPage(browser, async (page) => {
      await page.goto(published.url);
      await waitForScreen(page, "hello from the agent");
      await typeLine(page, "before leaving");
    });
    await waitFor(() => server.viewerCount(taskId) === 0, "the viewer to leave");
    expect(await hasTmuxSession(raw, session)).toBe(true);
    expect((await paneState(raw, session))?.dead).toBe(false);

    await withPage(browser, async (again) => {
      await again.goto(published.url);
      await waitForScreen(again, "got <before leaving>");
    });
  });

  it("refuses a wrong token and a foreign Origin without opening a PTY", async () => {
    const { counted, server, published } = fixture();
    const before = counted.opened();
    const wsUrl = socketUrl(published.url);
    const wrong = await probeSocket(wsUrl, {
      origin: server.origin,
      frames: [JSON.stringify({ type: "auth", token: `${published.token}x` })],
    });
    expect(wrong.closeCode).toBe(CloseCode.policyViolation);
    expect(wrong.received).toBe(0);
    const foreign = await probeSocket(wsUrl, {
      origin: "http://evil.example",
      frames: [JSON.stringify({ type: "auth", token: published.token })],
    });
    expect(foreign.status).toBe(403);
    expect(counted.opened()).toBe(before);
  });
}
