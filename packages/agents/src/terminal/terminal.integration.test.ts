import { mkdtemp, rm } from "node:fs/promises";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalHost, RemoteHost, shellCommand, type Host } from "@optio/host";
import { startTestSshd, type TestSshd } from "@optio/host/testing";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  hasTmuxSession,
  paneState,
  readScreen,
  startTmuxSession,
  stopTmuxSession,
  tmuxSessionFor,
  type TmuxSession,
} from "./tmux.js";
import { CloseCode } from "./protocol.js";
import { TerminalServer, type PublishedTerminal } from "./terminal-server.js";
import {
  countingPtys,
  launchChromium,
  probeSocket,
  readOnlyUrl,
  screenText,
  socketUrl,
  waitFor,
  waitForScreen,
} from "./test-browser.js";

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
async function expectFlowControl(host: Host): Promise<void> {
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

let browser: Browser;
let root: string;

beforeAll(async () => {
  browser = await launchChromium();
  root = await mkdtemp(join(tmpdir(), "optio-terminal-"));
});

afterAll(async () => {
  await browser?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

/** What every page scenario needs: a program in tmux on some host, published by a server. */
interface Published {
  raw: Host;
  counted: ReturnType<typeof countingPtys>;
  session: TmuxSession;
  server: TerminalServer;
  published: PublishedTerminal;
  taskId: string;
}

/** Types `line` into the page and Enter, and waits for the program's echo of it. */
async function typeLine(page: Page, line: string): Promise<void> {
  await page.locator(".xterm").click();
  await page.keyboard.type(line);
  await page.keyboard.press("Enter");
  await waitForScreen(page, `got <${line}>`);
}

/** Connects `raw`, starts the test program there in tmux and publishes it under `taskId` on a server of its own. */
async function publishProgram(raw: Host, taskId: string): Promise<Published> {
  await raw.connect();
  const counted = countingPtys(raw);
  const session = tmuxSessionFor(raw);
  await startProgram(raw, session);
  const server = await TerminalServer.start();
  return { raw, counted, session, server, published: server.publish(taskId, { host: counted.host, session }), taskId };
}

/** Undoes publishProgram, whichever part of it had happened. */
async function unpublishProgram(raw: Host | undefined, fixture: Partial<Published>): Promise<void> {
  await fixture.published?.close();
  await fixture.server?.close();
  if (raw && fixture.session) await stopTmuxSession(raw, fixture.session).catch(() => undefined);
  await raw?.disconnect();
}

/**
 * The scenarios a user meets in the browser, run against each kind of host:
 * typing, a second page, a read-only page, every page leaving, and refused
 * connections. `fixture` is read when each test runs, after beforeAll.
 */
function pageScenarios(fixture: () => Published): void {
  it("shows the program's output, sends typed keys to it, and shares the screen between pages", async () => {
    const { raw, counted, session, server, published, taskId } = fixture();
    expect(published.url).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/t/${taskId}#token=[A-Za-z0-9_-]{43}$`),
    );
    const before = counted.opened();
    const page = await browser.newPage();
    await page.goto(published.url);
    await waitForScreen(page, "hello from the agent");

    await typeLine(page, "typed in the page");
    expect(await readScreen(raw, session)).toContain("got <typed in the page>");

    const second = await browser.newPage();
    await second.goto(published.url);
    await waitForScreen(second, "got <typed in the page>");
    expect(server.viewerCount(taskId)).toBe(2);
    // One PTY (one `tmux attach`) per page.
    expect(counted.opened()).toBe(before + 2);
    await second.close();
    await page.close();
    await waitFor(() => server.viewerCount(taskId) === 0, "both viewers to leave");
  });

  it("keeps a read-only page from typing", async () => {
    const { raw, session, published } = fixture();
    const writer = await browser.newPage();
    await writer.goto(published.url);
    await waitForScreen(writer, "hello from the agent");
    const reader = await browser.newPage();
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
    await reader.close();
    await writer.close();
  });

  it("leaves the program running when every page closes, and a new page sees the current screen", async () => {
    const { raw, session, server, published, taskId } = fixture();
    const page = await browser.newPage();
    await page.goto(published.url);
    await waitForScreen(page, "hello from the agent");
    await typeLine(page, "before leaving");
    await page.close();
    await waitFor(() => server.viewerCount(taskId) === 0, "the viewer to leave");
    expect(await hasTmuxSession(raw, session)).toBe(true);
    expect((await paneState(raw, session))?.dead).toBe(false);

    const again = await browser.newPage();
    await again.goto(published.url);
    await waitForScreen(again, "got <before leaving>");
    await again.close();
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

describe("terminal over a local host", () => {
  let raw: Host;
  let counted: ReturnType<typeof countingPtys>;
  let session: TmuxSession;
  let server: TerminalServer;
  let published: PublishedTerminal;

  beforeAll(async () => {
    raw = new LocalHost({
      consumer: "optio-terminal-test",
      processId: "local-task",
      env: { OPTIO_TERMINAL_TEST_TASK_ROOT: root },
    });
    ({ counted, session, server, published } = await publishProgram(raw, "local-task"));
  });

  afterAll(async () => {
    await unpublishProgram(raw, { session, server, published });
  });

  pageScenarios(() => ({ raw, counted, session, server, published, taskId: "local-task" }));

  it("a task published read-only ignores input frames even from a client that sends them", async () => {
    const readOnly = server.publish("read-only-task", { host: counted.host, session, readOnly: true });
    try {
      const before = counted.opened();
      const outcome = await new Promise<{ sawReady: boolean }>((resolve, reject) => {
        const ws = new WebSocket(socketUrl(readOnly.url), { origin: server.origin });
        ws.on("error", reject);
        ws.on("open", () => ws.send(JSON.stringify({ type: "auth", token: readOnly.token, cols: 80, rows: 24 })));
        ws.on("message", (data, isBinary) => {
          if (isBinary) return;
          const message = JSON.parse(String(data));
          if (message.type === "ready") {
            expect(message.readOnly).toBe(true);
            ws.send(JSON.stringify({ type: "input", data: "sneaky input\r" }));
            ws.close();
            resolve({ sawReady: true });
          }
        });
      });
      expect(outcome.sawReady).toBe(true);
      expect(counted.opened()).toBe(before + 1);
      const writer = await browser.newPage();
      await writer.goto(published.url);
      await waitForScreen(writer, "hello from the agent");
      await writer.locator(".xterm").click();
      await writer.keyboard.type("marker after sneaky");
      await writer.keyboard.press("Enter");
      await waitFor(async () => (await readScreen(raw, session)).includes("got <marker after sneaky>"), "the marker");
      expect(await readScreen(raw, session)).not.toContain("sneaky input");
      await writer.close();
    } finally {
      await readOnly.close();
    }
  });

  it("resizes the PTY to the page", async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 600 } });
    await page.goto(published.url);
    await waitForScreen(page, "hello from the agent");
    const fitted = await page.evaluate(() => {
      const { term } = (window as unknown as { optioTerminal: { term: { cols: number; rows: number } } }).optioTerminal;
      return { cols: term.cols, rows: term.rows };
    });
    await page.locator(".xterm").click();
    await page.keyboard.type("size");
    await page.keyboard.press("Enter");
    await waitForScreen(page, `size=${fitted.rows} ${fitted.cols}`);

    await page.setViewportSize({ width: 700, height: 400 });
    const refitted = await waitFor(async () => {
      const size = await page.evaluate(() => {
        const { term } = (window as unknown as { optioTerminal: { term: { cols: number; rows: number } } })
          .optioTerminal;
        return { cols: term.cols, rows: term.rows };
      });
      return size.cols < fitted.cols ? size : null;
    }, "the page to refit");
    await waitFor(
      async () => {
        await page.keyboard.type("size");
        await page.keyboard.press("Enter");
        return (await screenText(page)).includes(`size=${refitted.rows} ${refitted.cols}`);
      },
      "the program to see the new size",
      15_000,
      300,
    );
    await page.close();
  });

  it("refuses a client that skips auth or sends garbage, a missing Origin, an unknown task and a silent client, opening no PTY", async () => {
    const before = counted.opened();
    const wsUrl = socketUrl(published.url);
    const notAuth = await probeSocket(wsUrl, {
      origin: server.origin,
      frames: [JSON.stringify({ type: "input", data: "ls\r" })],
    });
    expect(notAuth.closeCode).toBe(CloseCode.policyViolation);
    const garbage = await probeSocket(wsUrl, { origin: server.origin, frames: ["not json"] });
    expect(garbage.closeCode).toBe(CloseCode.policyViolation);
    const missing = await probeSocket(wsUrl, { frames: [JSON.stringify({ type: "auth", token: published.token })] });
    expect(missing.status).toBe(403);
    const unknown = await probeSocket(socketUrl(`${server.origin}/t/no-such-task`), { origin: server.origin });
    expect(unknown.status).toBe(404);
    expect(counted.opened()).toBe(before);

    const strict = await TerminalServer.start({ authTimeoutMs: 300 });
    try {
      const quiet = strict.publish("quiet", { host: counted.host, session });
      const silent = await probeSocket(socketUrl(quiet.url), { origin: strict.origin });
      expect(silent.closeCode).toBe(CloseCode.policyViolation);
    } finally {
      await strict.close();
    }
    expect(counted.opened()).toBe(before);

    const page = await fetch(`${server.origin}/t/no-such-task`);
    expect(page.status).toBe(404);
  });

  it("accepts an allowed origin and puts it in frame-ancestors", async () => {
    const embedded = server.publish("embedded", {
      host: counted.host,
      session,
      allowedOrigins: ["https://dashboard.example"],
    });
    try {
      const res = await fetch(`${server.origin}/t/embedded`);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("frame-ancestors 'self' https://dashboard.example");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
      expect(await res.text()).not.toContain(embedded.token);
      const before = counted.opened();
      const allowed = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(socketUrl(embedded.url), { origin: "https://dashboard.example" });
        ws.on("error", reject);
        ws.on("open", () => ws.send(JSON.stringify({ type: "auth", token: embedded.token })));
        ws.on("message", (data, isBinary) => {
          if (!isBinary && JSON.parse(String(data)).type === "ready") ws.close();
        });
        ws.on("close", (code) => resolve(code));
      });
      expect(allowed).not.toBe(CloseCode.policyViolation);
      expect(counted.opened()).toBe(before + 1);
    } finally {
      await embedded.close();
    }
  });

  it("lets a client without Origin in only when the server was started to accept it", async () => {
    const lenient = await TerminalServer.start({ acceptMissingOrigin: true });
    try {
      const target = lenient.publish("cli", { host: counted.host, session });
      const before = counted.opened();
      const outcome = await probeSocket(socketUrl(target.url), {
        frames: [JSON.stringify({ type: "auth", token: target.token })],
        closeAfterReady: true,
      });
      expect(outcome.status).toBeUndefined();
      expect(outcome.sawReady).toBe(true);
      expect(counted.opened()).toBe(before + 1);
      const foreign = await probeSocket(socketUrl(target.url), { origin: "http://evil.example" });
      expect(foreign.status).toBe(403);
    } finally {
      await lenient.close();
    }
  });

  it("disconnects viewers when the task is unpublished, and the page shows it", async () => {
    const temporary = server.publish("temporary", { host: counted.host, session });
    const page = await browser.newPage();
    await page.goto(temporary.url);
    await waitForScreen(page, "hello from the agent");
    await temporary.close();
    await waitForScreen(page, "[disconnected");
    expect(server.viewerCount("temporary")).toBe(0);
    // Unpublished is final: the page does not try again (its first retry would come after 0.5 s).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(
      await page.evaluate(
        () => (window as unknown as { optioTerminal: { socket: WebSocket } }).optioTerminal.socket.readyState,
      ),
    ).toBe(3);
    expect(await page.locator("#status").textContent()).toBe("disconnected: terminal closed");
    expect(server.viewerCount("temporary")).toBe(0);
    expect((await fetch(`${server.origin}/t/temporary`)).status).toBe(404);
    await page.close();
  });

  it("reconnects a page whose connection dropped, and it shows and types into the agent again", async () => {
    // A TCP proxy in front of the server, whose connections are cut as a proxy timeout or a network change would.
    const connections = new Set<Socket>();
    const proxy = createServer((client) => {
      const upstream = connect(server.port, "127.0.0.1");
      for (const end of [client, upstream]) {
        connections.add(end);
        end.on("error", () => undefined);
        end.on("close", () => {
          connections.delete(end);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const proxyOrigin = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const target = server.publish("proxied", { host: counted.host, session, allowedOrigins: [proxyOrigin] });
    const page = await browser.newPage();
    try {
      await page.goto(`${proxyOrigin}/t/proxied#token=${target.token}`);
      await waitForScreen(page, "hello from the agent");
      await page.evaluate(() => {
        const w = window as unknown as { firstSocket: unknown; optioTerminal: { socket: unknown } };
        w.firstSocket = w.optioTerminal.socket;
      });
      for (const end of connections) end.destroy();
      await waitFor(
        () =>
          page.evaluate(() => {
            const w = window as unknown as { firstSocket: unknown; optioTerminal: { socket: WebSocket } };
            return w.optioTerminal.socket !== w.firstSocket && w.optioTerminal.socket.readyState === 1;
          }),
        "the page to reconnect",
      );
      await waitFor(() => server.viewerCount("proxied") === 1, "one viewer again");
      await waitForScreen(page, "hello from the agent");
      await typeLine(page, "after the reconnect");
      expect(await readScreen(raw, session)).toContain("got <after the reconnect>");
      expect(await page.locator("#status").isHidden()).toBe(true);
    } finally {
      await page.close();
      await target.close();
      await new Promise<void>((resolve) => {
        for (const end of connections) end.destroy();
        proxy.close(() => resolve());
      });
    }
  });

  it("pauses a viewer that does not acknowledge, and resumes it when it does", async () => {
    await expectFlowControl(raw);
  });

  it("drops a viewer that stops answering pings, detaching its tmux client, and keeps one that answers", async () => {
    const clients = async () =>
      (
        await raw.runCommand(
          shellCommand(["env", "-u", "TMUX", "tmux", "-S", session.socket, "list-clients", "-t", session.name]),
        )
      ).stdout
        .split("\n")
        .filter((line) => line.trim() !== "").length;
    const beating = await TerminalServer.start({ heartbeatMs: 200 });
    const target = beating.publish("heartbeat", { host: counted.host, session });
    const connect = () =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(socketUrl(target.url), { origin: beating.origin });
        ws.on("error", reject);
        ws.on("open", () => ws.send(JSON.stringify({ type: "auth", token: target.token, cols: 80, rows: 24 })));
        ws.on("message", (data, isBinary) => {
          if (!isBinary && JSON.parse(String(data)).type === "ready") resolve(ws);
        });
      });
    try {
      const before = await clients();
      const live = await connect();
      const gone = await connect();
      await waitFor(async () => (await clients()) === before + 2, "both tmux clients to attach");
      // A paused socket reads nothing, so the pings go unanswered, as from a client that vanished.
      (gone as unknown as { _socket: { pause(): void } })._socket.pause();
      await waitFor(() => beating.viewerCount("heartbeat") === 1, "the silent viewer to be dropped", 5000);
      await waitFor(async () => (await clients()) === before + 1, "its tmux client to detach", 5000);
      // Several more heartbeats: the viewer that answers stays.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(beating.viewerCount("heartbeat")).toBe(1);
      expect(live.readyState).toBe(WebSocket.OPEN);
      live.close();
      gone.terminate();
    } finally {
      await beating.close();
    }
  });

  it("keeps the worker's memory bounded while a page receives a flood", async () => {
    const flood: TmuxSession = { socket: `${raw.taskDir}/yes.sock`, name: "yes" };
    await startTmuxSession(raw, flood, "yes", raw.workdir);
    const target = server.publish("yes-flood", { host: raw, session: flood });
    const page = await browser.newPage();
    try {
      await page.goto(target.url);
      await waitForScreen(page, /^y$/m);
      const startRss = process.memoryUsage().rss;
      let peakRss = startRss;
      const started = Date.now();
      await waitFor(
        () => {
          peakRss = Math.max(peakRss, process.memoryUsage().rss);
          return Date.now() - started > 4000;
        },
        "a few seconds of flooding",
        10_000,
        100,
      );
      expect(await hasTmuxSession(raw, flood)).toBe(true);
      expect((peakRss - startRss) / 1024 / 1024).toBeLessThan(150);
    } finally {
      await page.close();
      await target.close();
      await stopTmuxSession(raw, flood);
    }
  });

  it("shows a session that starts after the page opened", async () => {
    const late: TmuxSession = { socket: `${raw.taskDir}/late.sock`, name: "late" };
    const target = server.publish("late", { host: raw, session: late });
    const page = await browser.newPage();
    try {
      await page.goto(target.url);
      await waitForScreen(page, "Waiting for the agent to start");
      await startTmuxSession(raw, late, "bash -c 'echo started-late; exec sleep 600'", raw.workdir);
      await waitForScreen(page, "started-late");
      expect(server.viewerCount("late")).toBe(1);
    } finally {
      await page.close();
      await target.close();
      await stopTmuxSession(raw, late);
    }
  });

  it("ends the page's socket when the tmux session ends", async () => {
    const short: TmuxSession = { socket: `${raw.taskDir}/short.sock`, name: "short" };
    await startTmuxSession(raw, short, "bash -c 'echo short-lived; exec sleep 600'", raw.workdir);
    const target = server.publish("short", { host: raw, session: short });
    const page = await browser.newPage();
    try {
      await page.goto(target.url);
      await waitForScreen(page, "short-lived");
      await stopTmuxSession(raw, short);
      await waitForScreen(page, "[session ended]");
      await waitFor(() => server.viewerCount("short") === 0, "the viewer to be dropped");
      const state = await page.evaluate(
        () => (window as unknown as { optioTerminal: { socket: WebSocket } }).optioTerminal.socket.readyState,
      );
      expect(state).toBe(3);
    } finally {
      await page.close();
      await target.close();
    }
  });
});

describe("terminal over a remote host (real sshd)", () => {
  let sshd: TestSshd;
  let raw: Host;
  let counted: ReturnType<typeof countingPtys>;
  let session: TmuxSession;
  let server: TerminalServer;
  let published: PublishedTerminal;

  beforeAll(async () => {
    sshd = await startTestSshd();
    raw = new RemoteHost({
      consumer: "optio-terminal-test",
      processId: "remote-task",
      ssh: sshd.sshConfig(),
      env: { OPTIO_TERMINAL_TEST_REMOTE_TASK_ROOT: join(root, "remote") },
    });
    ({ counted, session, server, published } = await publishProgram(raw, "remote-task"));
  });

  afterAll(async () => {
    await unpublishProgram(raw, { session, server, published });
    await sshd?.stop();
  });

  pageScenarios(() => ({ raw, counted, session, server, published, taskId: "remote-task" }));

  it("pauses a viewer's ssh PTY that does not acknowledge, and resumes it", async () => {
    await expectFlowControl(raw);
  });
});
