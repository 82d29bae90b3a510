import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isConversationRequest, startScriptedModel, type ScriptedTurn } from "@optio/agents/testing";
import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startDashboard } from "./server.mjs";
import { launchBrowser, pinnedClaudeDir } from "./test-servers.js";
import { download, installStandIn, openDashboard, startFromPage, startStandInReport } from "./test-page.js";

type Dashboard = Awaited<ReturnType<typeof startDashboard>>;

let browser: Browser;
let root: string;
let dashboard: Dashboard | undefined;
const savedEnv = { ...process.env };

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "optio-dashboard-"));
  // Task dirs live under $XDG_DATA_HOME/<agent>: keep them in the sandbox.
  process.env.XDG_DATA_HOME = join(root, "xdg-data");
});
afterEach(async () => {
  await dashboard?.close();
  dashboard = undefined;
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
  await rm(root, { recursive: true, force: true });
});

/** What a model would answer to "write a poem": the deliverable with its protocol lines, then DONE, through claude's Bash tool. */
const POEM = "panes wait in the dark\\nthe agent starts on its own\\nthe log says done\\n";
const bash = (command: string) => ({ name: "Bash", input: { command, description: command } });
const POEM_TURNS: ScriptedTurn[] = [
  {
    toolCalls: [
      bash(
        `mkdir -p deliverables && printf '${POEM}' > deliverables/poem.txt && echo 'STATUS: 50% poem written' >> optio.log && echo 'DELIVERABLE: deliverables/poem.txt' >> optio.log`,
      ),
    ],
    usage: { inputTokens: 10_000, outputTokens: 1000 },
  },
  {
    toolCalls: [bash("echo 'DONE: wrote a poem' >> optio.log")],
    usage: { inputTokens: 2000, outputTokens: 200, cacheReadInputTokens: 300 },
  },
];

/** Every progress message the dashboard broadcasts, in order, read from its event stream as the page reads it. */
function recordMessages(d: Dashboard): { messages: string[]; stop: () => void } {
  const messages: string[] = [];
  const abort = new AbortController();
  void (async () => {
    const response = await fetch(`${d.origin}/api/events?token=${d.token}`, { signal: abort.signal });
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body!) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const data = /^data: (.*)$/m.exec(buffer.slice(0, end))?.[1];
        buffer = buffer.slice(end + 2);
        const message = data && (JSON.parse(data) as { task?: { message?: string | null } }).task?.message;
        if (message && message !== messages.at(-1)) messages.push(message);
      }
    }
  })().catch(() => {});
  return { messages, stop: () => abort.abort() };
}

describe("dashboard", () => {
  it("refuses every endpoint but the page shell without the token", async () => {
    dashboard = await startDashboard({ dataDir: join(root, "data"), log: () => {} });
    const { origin, token } = dashboard;
    expect((await fetch(`${origin}/`)).status).toBe(200);
    for (const path of ["/api/agents", "/api/tasks", "/api/events", "/api/tasks/x/deliverables/a.txt"]) {
      expect((await fetch(`${origin}${path}`)).status, path).toBe(401);
      expect((await fetch(`${origin}${path}?token=wrong`)).status, path).toBe(401);
      expect((await fetch(`${origin}${path}`, { headers: { authorization: "Bearer wrong" } })).status, path).toBe(401);
    }
    const post = await fetch(`${origin}/api/tasks`, {
      method: "POST",
      body: JSON.stringify({ agent: "claudecode", instructions: "x" }),
    });
    expect(post.status).toBe(401);
    const message = await fetch(`${origin}/api/tasks/x/message`, {
      method: "POST",
      body: JSON.stringify({ text: "x" }),
    });
    expect(message.status).toBe(401);
    const ok = await fetch(`${origin}/api/agents`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toContainEqual({ id: "claudecode", displayName: "Claude Code" });
    expect(dashboard.url).toBe(`${origin}/#token=${token}`);
    expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("answers malformed requests with 400 and keeps serving", async () => {
    dashboard = await startDashboard({ dataDir: join(root, "data"), log: () => {} });
    const { origin, token } = dashboard;
    const auth = { authorization: `Bearer ${token}` };
    const raw = (method: string, path: string, body?: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(`${origin}/`, { method, path, headers: auth }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("error", reject);
        req.end(body);
      });
    expect(await raw("GET", "//")).toBe(400);
    expect(await raw("GET", "/api/tasks/x/deliverables/%E0%A4%A")).toBe(400);
    for (const body of ["null", "[1]", "7", '"text"']) {
      expect(await raw("POST", "/api/tasks", body), body).toBe(400);
    }
    expect(await raw("GET", "/api/agents")).toBe(200);
  });

  it("runs a task from the page with the scripted stand-in: progress, terminal, deliverable, cancel, resume", async () => {
    const agentDir = join(root, "agent");
    await installStandIn(agentDir);
    dashboard = await startDashboard({ dataDir: join(root, "data"), agentDir, log: () => {} });
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    try {
      const { processId, row } = await startStandInReport(page, dashboard);

      const frame = page.locator("#terminal-frame");
      const terminal = page.frameLocator("#terminal-frame").locator(".xterm-rows");
      await expect.poll(() => terminal.textContent(), { timeout: 60_000 }).toContain("scripted agent ready>");
      await page.locator("#message-text").fill("hello from the dashboard");
      const sent = page.waitForResponse((r) => r.url().endsWith(`/api/tasks/${processId}/message`), {
        timeout: 15_000,
      });
      await page.locator("#message-button").click();
      expect((await sent).status()).toBe(202);
      await expect
        .poll(() => terminal.textContent(), { timeout: 15_000 })
        .toContain("you said: hello from the dashboard");
      expect(await page.locator("#message-text").inputValue()).toBe("");
      const firstUrl = await frame.getAttribute("src");
      expect(firstUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);

      const link = row.locator("a.deliverable").first();
      await link.waitFor({ timeout: 60_000 });
      expect(await link.textContent()).toBe("report.md");
      expect(await download(page, link)).toEqual({ name: "report.md", text: "dashboard stand-in report\n" });

      await row.locator("button.cancel").click();
      await expect.poll(() => row.locator(".status").textContent(), { timeout: 60_000 }).toBe("cancelled");
      const late = await fetch(`${dashboard.origin}/api/tasks/${processId}/message`, {
        method: "POST",
        headers: { authorization: `Bearer ${dashboard.token}`, "content-type": "application/json" },
        body: JSON.stringify({ text: "too late" }),
      });
      expect(late.status).toBe(409);
      await expect.poll(() => page.locator("#terminal").isHidden(), { timeout: 15_000 }).toBe(true);

      await row.locator("button.resume").click();
      await expect.poll(() => row.locator(".status").textContent(), { timeout: 60_000 }).toBe("running");
      await expect.poll(() => page.locator("#terminal-task").textContent(), { timeout: 15_000 }).toBe(processId);
      await expect.poll(() => frame.getAttribute("src"), { timeout: 15_000 }).not.toBe(firstUrl);
      await expect.poll(() => terminal.textContent(), { timeout: 60_000 }).toContain("scripted agent ready>");
    } finally {
      await context.close();
    }
  }, 240_000);

  it("with a model endpoint, a task does its job on its own: real claude, nobody types, done with the deliverable on the page", async () => {
    // Nothing answers past DONE's turn: claude's records end with the two scripted turns.
    const model = await startScriptedModel({ turns: POEM_TURNS, holdAfterLastTurn: true });
    const env = {
      ...process.env,
      OPTIO_DASHBOARD_API_BASE_URL: model.url,
      ANTHROPIC_API_KEY: "sk-ant-scripted-dashboard-key-0123456789",
    };
    dashboard = await startDashboard({
      dataDir: join(root, "data"),
      agentDir: await pinnedClaudeDir(join(root, "claude-bin"), join(root, "install")),
      env,
      log: () => {},
    });
    const recorder = recordMessages(dashboard);
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    try {
      await openDashboard(page, dashboard);
      const processId = await startFromPage(page, "Write a three-line poem about tmux into deliverables/poem.txt.");
      const row = page.locator(`tr[data-process-id="${processId}"]`);
      await expect.poll(() => row.locator(".status").textContent(), { timeout: 300_000, interval: 500 }).toBe("done");
      expect(await row.locator(".status").getAttribute("title")).toBe("wrote a poem");
      expect(await row.locator(".progress-text").textContent()).toBe("100% wrote a poem");
      // Usage so far, from claude's transcript: both turns' prompt tokens in, their output out; claude records no cost.
      expect(await row.locator(".usage").textContent()).toBe("12.3k in / 1.2k out");
      const link = row.locator("a.deliverable").first();
      expect(await link.textContent()).toBe("poem.txt");
      expect(await download(page, link)).toEqual({ name: "poem.txt", text: POEM.replaceAll("\\n", "\n") });

      // Progress said what the agent was doing, in order: started, working, its own STATUS line, the outcome.
      const { messages } = recorder;
      const at = (m: string) => messages.indexOf(m);
      expect(at("Starting Claude Code…"), messages.join(" | ")).toBeGreaterThanOrEqual(0);
      expect(at("Claude Code is working…"), messages.join(" | ")).toBeGreaterThan(at("Starting Claude Code…"));
      expect(at("poem written"), messages.join(" | ")).toBeGreaterThan(at("Claude Code is working…"));
      await expect.poll(() => messages.at(-1), { timeout: 15_000 }).toBe("wrote a poem");

      // The kickoff came from the dashboard's config, with the instructions in CLAUDE.md: nothing was typed.
      const first = model.requests.find(isConversationRequest);
      expect(JSON.stringify(first?.body)).toContain("Read CLAUDE.md and carry out the task it describes");
      expect(model.turnsUsed).toBeGreaterThanOrEqual(2);
    } finally {
      recorder.stop();
      await context.close();
      await model.close();
    }
  }, 420_000);

  it("shows the agent's state and answers its permission prompt: real claude asks, Approve on the page, the task ends done", async () => {
    const model = await startScriptedModel({
      turns: [{ toolCalls: [bash("echo 'DONE: approved from the page' >> optio.log")] }, { text: "Done." }],
    });
    const env = {
      ...process.env,
      OPTIO_DASHBOARD_API_BASE_URL: model.url,
      ANTHROPIC_API_KEY: "sk-ant-scripted-dashboard-key-0123456789",
    };
    dashboard = await startDashboard({
      dataDir: join(root, "data"),
      agentDir: await pinnedClaudeDir(join(root, "claude-bin"), join(root, "install")),
      env,
      log: () => {},
    });
    const answer = (processId: string, body: unknown) =>
      fetch(`${dashboard!.origin}/api/tasks/${processId}/answer`, {
        method: "POST",
        headers: { authorization: `Bearer ${dashboard!.token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const page = await browser.newPage();
    try {
      await openDashboard(page, dashboard);
      await page.locator("#ask").check();
      const processId = await startFromPage(page, "Report DONE.");
      const row = page.locator(`tr[data-process-id="${processId}"]`);
      const badge = row.locator(".agent-state .badge");
      await expect.poll(() => badge.textContent(), { timeout: 300_000, interval: 250 }).toBe("waiting-permission");
      expect(await badge.getAttribute("title")).toContain("DONE: approved from the page");
      expect(await row.locator(".attention").textContent()).toContain("Claude Code asks for permission");
      expect((await answer(processId, { answer: "maybe" })).status).toBe(400);
      await row.locator("button.approve").click();
      await expect.poll(() => row.locator(".status").textContent(), { timeout: 300_000, interval: 500 }).toBe("done");
      // The summary is the DONE line the approved command wrote: it ran because Approve was pressed.
      expect(await row.locator(".status").getAttribute("title")).toBe("approved from the page");
      expect(await badge.textContent()).toBe("exited");
      expect(await row.locator(".attention").count()).toBe(0);
      expect(await row.locator("button.approve").count()).toBe(0);
      expect((await answer(processId, { answer: "deny" })).status).toBe(409);
    } finally {
      await page.close();
      await model.close();
    }
  }, 420_000);

  it("shows Claude Code's own screen in the terminal frame (real claude from the npm registry)", async () => {
    dashboard = await startDashboard({
      dataDir: join(root, "data"),
      agentDir: join(root, "claude-bin"),
      log: () => {},
    });
    const page = await browser.newPage();
    try {
      await openDashboard(page, dashboard);
      const processId = await startFromPage(page, "Say hello.");
      const row = page.locator(`tr[data-process-id="${processId}"]`);
      await expect
        .poll(() => row.locator(".status").textContent(), { timeout: 300_000, interval: 500 })
        .toBe("running");
      const terminal = page.frameLocator("#terminal-frame").locator(".xterm-rows");
      await expect.poll(() => terminal.textContent(), { timeout: 60_000, interval: 500 }).toContain("Claude Code");
      // Without an endpoint or a key the agent is not kicked off: it waits for a person, and the page says so.
      await expect
        .poll(() => row.locator(".progress-text").textContent(), { timeout: 15_000 })
        .toBe("Claude Code is waiting for input");
      await row.locator("button.cancel").click();
      await expect.poll(() => row.locator(".status").textContent(), { timeout: 60_000 }).toBe("cancelled");
    } finally {
      await page.close();
    }
  }, 420_000);
});
