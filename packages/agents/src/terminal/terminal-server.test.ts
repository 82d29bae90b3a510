import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { OptioConfigError, type Host } from "@optio/host";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ASSETS, pageCsp, renderPage } from "./page-assets.js";
import { parseClientMessage } from "./protocol.js";
import { closeSharedTerminalServer, publishTerminal, sharedTerminalServer, TerminalServer } from "./terminal-server.js";
import { tokensEqual } from "./viewer.js";

// publish() and the HTTP routes never touch the host; only a viewer's PTY does.
const host = {} as Host;
const session = { socket: "/tmp/optio-test.sock", name: "optio" };

describe("parseClientMessage", () => {
  it("accepts the four message types", () => {
    expect(parseClientMessage('{"type":"auth","token":"abc","cols":80,"rows":24}')).toEqual({
      type: "auth",
      token: "abc",
      cols: 80,
      rows: 24,
    });
    expect(parseClientMessage('{"type":"input","data":"ls\\r"}')).toEqual({ type: "input", data: "ls\r" });
    expect(parseClientMessage('{"type":"resize","cols":120,"rows":40}')).toEqual({
      type: "resize",
      cols: 120,
      rows: 40,
    });
    expect(parseClientMessage('{"type":"ack","chars":4096}')).toEqual({ type: "ack", chars: 4096 });
  });

  it("rejects malformed, unknown and out-of-range messages", () => {
    for (const text of [
      "",
      "nope",
      "[]",
      '{"type":"shell","cmd":"id"}',
      '{"type":"resize","cols":0,"rows":24}',
      '{"type":"resize","cols":80,"rows":5000}',
      '{"type":"ack","chars":-1}',
      '{"type":"auth"}',
    ]) {
      expect(parseClientMessage(text)).toBeNull();
    }
  });
});

describe("tokensEqual", () => {
  it("matches only the same token, whatever the lengths", () => {
    expect(tokensEqual("abc", "abc")).toBe(true);
    expect(tokensEqual("abc", "abd")).toBe(false);
    expect(tokensEqual("abc", "abcd")).toBe(false);
    expect(tokensEqual("abc", "")).toBe(false);
  });
});

describe("the page", () => {
  it("loads only same-origin scripts and names the allowed framers", () => {
    const csp = pageCsp(["https://dash.example"]);
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'self' https://dash.example");
    const html = renderPage("task-1");
    expect(html).not.toMatch(/<script>(?!<)/);
    expect(html.match(/<script src="\/assets\/[a-z-]+\.js"><\/script>/g)).toHaveLength(3);
  });

  it("resolves xterm's files from node_modules", async () => {
    for (const name of ["xterm.js", "xterm.css", "addon-fit.js"]) {
      const source = ASSETS[name]?.source;
      expect(source && "file" in source).toBe(true);
      if (source && "file" in source) expect((await readFile(source.file)).length).toBeGreaterThan(1000);
    }
  });
});

describe("TerminalServer", () => {
  let server: TerminalServer;

  beforeAll(async () => {
    server = await TerminalServer.start();
  });

  afterAll(async () => {
    await server.close();
    await closeSharedTerminalServer();
  });

  it("publishes a task under a fresh 256-bit token, with everything the page needs in the URL", async () => {
    const first = server.publish("task-1", { host, session });
    const second = server.publish("task-2", { host, session });
    expect(Buffer.from(first.token, "base64url")).toHaveLength(32);
    expect(first.token).not.toBe(second.token);
    expect(first.url).toBe(`http://127.0.0.1:${server.port}/t/task-1#token=${first.token}`);

    const page = await fetch(`${server.origin}/t/task-1`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'self'");
    expect(await page.text()).not.toContain(first.token);

    const script = await fetch(`${server.origin}/assets/xterm.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toContain("javascript");
    expect((await script.text()).length).toBeGreaterThan(100_000);

    await first.close();
    await first.close();
    expect((await fetch(`${server.origin}/t/task-1`)).status).toBe(404);
    expect((await fetch(`${server.origin}/t/task-2`)).status).toBe(200);
    expect((await fetch(`${server.origin}/assets/../package.json`)).status).toBe(404);
    expect((await fetch(`${server.origin}/t/task-2`, { method: "POST" })).status).toBe(405);
    await second.close();
  });

  it("replaces an earlier publication of the same task", async () => {
    const old = server.publish("again", { host, session });
    const fresh = server.publish("again", { host, session });
    await old.close();
    expect((await fetch(`${server.origin}/t/again`)).status).toBe(200);
    await fresh.close();
    expect((await fetch(`${server.origin}/t/again`)).status).toBe(404);
  });

  it("refuses unsafe task ids and origins that are not origins", () => {
    for (const id of ["", "..", "a/b", "a b", "x".repeat(129), "é"]) {
      expect(() => server.publish(id, { host, session })).toThrow(OptioConfigError);
    }
    for (const origin of ["*", "dash.example", "https://dash.example/path", "javascript:alert(1)", "file:///etc"]) {
      expect(() => server.publish("t", { host, session, allowedOrigins: [origin] })).toThrow(OptioConfigError);
    }
  });

  it("refuses flow-control thresholds that cannot work", async () => {
    await expect(TerminalServer.start({ highWater: 10, lowWater: 10 })).rejects.toThrow(OptioConfigError);
  });

  it("shares one lazily started server per process", async () => {
    const a = await sharedTerminalServer();
    const b = await sharedTerminalServer();
    expect(a).toBe(b);
    const published = await publishTerminal("shared-task", { host, session }, { readOnly: true });
    expect(published.url.startsWith(`${a.origin}/t/shared-task#token=`)).toBe(true);
    await published.close();
  });
});

describe("loading ws", () => {
  it("waits for the first viewer's upgrade, so a worker whose terminals nobody opens never loads it", async () => {
    // A fresh process of the built package: this test process has loaded ws itself.
    const dist = new URL("../../dist/terminal.js", import.meta.url).href;
    const script = `
      import { randomBytes } from "node:crypto";
      import http from "node:http";
      import { createRequire } from "node:module";
      const { TerminalServer } = await import(${JSON.stringify(dist)});
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => /[\\/]ws[\\/]lib[\\/]/.test(k));
      const server = await TerminalServer.start();
      const published = server.publish("t1", { host: {}, session: { socket: "/tmp/optio-none.sock", name: "none" } });
      const page = await fetch(published.url.split("#")[0]);
      const afterPage = loaded();
      const upgraded = await new Promise((resolve, reject) => {
        const req = http.request({
          host: "127.0.0.1", port: server.port, path: "/t/t1/ws",
          headers: { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": randomBytes(16).toString("base64"), Origin: server.origin },
        });
        req.on("upgrade", (res, socket) => { socket.destroy(); resolve(res.statusCode); });
        req.on("response", (res) => resolve(res.statusCode));
        req.on("error", reject);
        req.end();
      });
      console.log(JSON.stringify({ page: page.status, afterPage, upgraded, afterUpgrade: loaded() }));
      await server.close();
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
      cwd: fileURLToPath(new URL(".", import.meta.url)),
    });
    expect(JSON.parse(stdout)).toEqual({ page: 200, afterPage: false, upgraded: 101, afterUpgrade: true });
  });
});
