import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalHost } from "@optio/host";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  hasTmuxSession,
  readScreen,
  startTmuxSession,
  stopTmuxSession,
  tmuxSessionFor,
  type TmuxSession,
} from "./tmux.js";
import { TerminalServer, type PublishedTerminal } from "./terminal-server.js";
import { probeSocket, socketUrl, waitFor } from "./test-browser.js";

/** A deterministic generator, so a failing case can be replayed from its seed. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return state / 0x1_0000_0000;
  };
}

const PIECES = [
  "/t/",
  "/ws",
  "%",
  "%E0%A4%A",
  "%ZZ",
  "%C0%AF",
  "%00",
  "%",
  "..",
  "//",
  "/assets/",
  "?",
  "#",
  "ro=1",
  "&",
  "[",
  "]",
  "@",
  ":",
  "\\",
  "é",
  "\u{1F600}",
  "%FF",
  "%2F",
  "task",
];

function fuzzPath(random: () => number): string {
  let path = random() < 0.9 ? "/" : "";
  const parts = 1 + Math.floor(random() * 6);
  for (let i = 0; i < parts; i++) {
    path +=
      random() < 0.7
        ? PIECES[Math.floor(random() * PIECES.length)]
        : randomBytes(1 + Math.floor(random() * 4)).toString("latin1");
  }
  return path;
}

/** One raw HTTP/1.1 request: a fuzzed path, method and headers, with or without an upgrade. */
function fuzzRequest(random: () => number, taskId: string): Buffer {
  const method = ["GET", "HEAD", "POST", "OPTIONS", "G\u00c9T", "GET /"][Math.floor(random() * 6)];
  const path = random() < 0.3 ? `/t/${taskId}${random() < 0.5 ? "/ws" : ""}${fuzzPath(random)}` : fuzzPath(random);
  const headers = ["Host: 127.0.0.1"];
  if (random() < 0.5) {
    headers.push("Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13");
    if (random() < 0.7)
      headers.push(`Sec-WebSocket-Key: ${random() < 0.5 ? randomBytes(16).toString("base64") : fuzzPath(random)}`);
  }
  if (random() < 0.4)
    headers.push(
      `Origin: ${["http://127.0.0.1", "null", "javascript:x", fuzzPath(random), "http://[::1"][Math.floor(random() * 5)]}`,
    );
  if (random() < 0.2) headers.push(`X-Long: ${"a".repeat(Math.floor(random() * 20_000))}`);
  if (random() < 0.2) headers.push(`Bad Header\u0001: ${randomBytes(8).toString("latin1")}`);
  if (random() < 0.1) headers.push("Content-Length: -1");
  if (random() < 0.1) headers.push("Transfer-Encoding: chunked, identity");
  return Buffer.from(`${method} ${path} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n`, "latin1");
}

/** Sends `request` and resolves with the status the server answered (0 when it closed without one). */
function send(port: number, request: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let head = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within 10 s to ${JSON.stringify(request.toString("latin1").slice(0, 200))}`));
    }, 10_000);
    const finish = (status: number) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(status);
    };
    socket.on("data", (chunk: Buffer) => {
      head += chunk.toString("latin1");
      const line = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (line) finish(Number(line[1]));
    });
    socket.on("error", () => finish(0));
    socket.on("close", () => finish(0));
    socket.write(request);
  });
}

describe("the terminal server under malformed requests", () => {
  let host: LocalHost;
  let root: string;
  let session: TmuxSession;
  let server: TerminalServer;
  let published: PublishedTerminal;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "optio-fuzz-"));
    host = new LocalHost({ consumer: "optio-fuzz-test", processId: "fuzz", home: root });
    await host.connect();
    session = tmuxSessionFor(host);
    await startTmuxSession(host, session, "printf 'agent alive\\n'; exec cat", host.workdir);
    await waitFor(async () => (await readScreen(host, session)).includes("agent alive"), "the agent to start");
    server = await TerminalServer.start();
    published = server.publish("fuzz-task", { host, session });
  });

  afterAll(async () => {
    await published?.close();
    await server?.close();
    if (session) await stopTmuxSession(host, session).catch(() => undefined);
    await host?.disconnect();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("answers broken percent-encoding and unparsable targets with 4xx", async () => {
    for (const path of ["/t/%E0%A4%A", "/t/%E0%A4%A/ws", "/t/%/ws", "//", "//t/x/ws"]) {
      expect(await send(server.port, Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`)), path).toBe(404);
      const upgrade = `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\n\r\n`;
      expect(await send(server.port, Buffer.from(upgrade)), `upgrade ${path}`).toBe(404);
    }
  });

  it("stays up, with its agent and viewers, after a few thousand random requests", async () => {
    const random = generator(0x23);
    const statuses = new Map<number, number>();
    const total = 3000;
    let next = 0;
    // Forty connections at a time: enough to interleave, few enough for a loaded machine.
    await Promise.all(
      Array.from({ length: 40 }, async () => {
        while (next < total) {
          next += 1;
          const status = await send(server.port, fuzzRequest(random, "fuzz-task"));
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }),
    );
    const serverErrors = [...statuses].filter(([status]) => status >= 500);
    expect(serverErrors).toEqual([]);
    expect(
      [...statuses.keys()].every((status) => status === 0 || status === 101 || (status >= 200 && status < 500)),
    ).toBe(true);
    expect([...statuses.keys()].some((status) => status >= 400)).toBe(true);

    const page = await fetch(published.url.split("#")[0]!);
    expect(page.status).toBe(200);
    const viewer = await probeSocket(socketUrl(published.url), {
      origin: server.origin,
      frames: [JSON.stringify({ type: "auth", token: published.token, cols: 80, rows: 24 })],
      closeAfterReady: true,
    });
    expect(viewer.sawReady).toBe(true);
    expect(await hasTmuxSession(host, session)).toBe(true);
  }, 180_000);
});
