import { RemoteHost } from "@optio/host";
import { startTestSshd, type TestSshd } from "@optio/host/testing";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { CloseCode } from "./protocol.js";
import { TerminalServer } from "./terminal-server.js";
import { probeSocket, screenText, socketUrl, waitFor, waitForScreen } from "./test-browser.js";
import {
  expectFlowControl,
  pageScenarios,
  useBrowserAndRoot,
  useLocalProgram,
  useProgram,
} from "./test-page-scenarios.js";
import { readScreen } from "./tmux.js";

const files = useBrowserAndRoot();

describe("terminal over a local host", () => {
  const fixture = useLocalProgram(files);

  pageScenarios(fixture);

  it("a task published read-only ignores input frames even from a client that sends them", async () => {
    const { browser, raw, counted, session, server, published } = fixture();
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
    const { browser, published } = fixture();
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
    const { counted, session, server, published } = fixture();
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
    const { counted, session, server } = fixture();
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
    const { counted, session } = fixture();
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
});

describe("terminal over a remote host (real sshd)", () => {
  let sshd: TestSshd | undefined;
  beforeAll(async () => {
    sshd = await startTestSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });
  const fixture = useProgram(
    async () =>
      new RemoteHost({
        consumer: "optio-terminal-test",
        processId: "remote-task",
        ssh: (sshd as TestSshd).sshConfig(),
        env: { OPTIO_TERMINAL_TEST_REMOTE_TASK_ROOT: join(files.root(), "remote") },
      }),
    "remote-task",
    files.browser,
  );

  pageScenarios(fixture);

  it("pauses a viewer's ssh PTY that does not acknowledge, and resumes it", async () => {
    await expectFlowControl(fixture().raw);
  });
});
