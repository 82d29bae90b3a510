import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { shellCommand } from "@optio/host";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { TerminalServer } from "./terminal-server.js";
import { socketUrl, waitFor, waitForScreen } from "./test-browser.js";
import { expectFlowControl, typeLine, useBrowserAndRoot, useLocalProgram } from "./test-page-scenarios.js";
import { hasTmuxSession, readScreen, startTmuxSession, stopTmuxSession, type TmuxSession } from "./tmux.js";

const files = useBrowserAndRoot();

// What a page meets on a local host beyond the shared scenarios: the task going away, a dropped connection, flow
// control, heartbeats, a flood, and sessions that start late or end.
describe("terminal over a local host, as time goes on", () => {
  const fixture = useLocalProgram(files);

  it("disconnects viewers when the task is unpublished, and the page shows it", async () => {
    const { browser, counted, session, server } = fixture();
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
    const { browser, raw, counted, session, server } = fixture();
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
    const { raw } = fixture();
    await expectFlowControl(raw);
  });

  it("drops a viewer that stops answering pings, detaching its tmux client, and keeps one that answers", async () => {
    const { raw, counted, session } = fixture();
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
    const { browser, raw, server } = fixture();
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
    const { browser, raw, server } = fixture();
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
    const { browser, raw, server } = fixture();
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
