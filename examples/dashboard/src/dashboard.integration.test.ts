import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scriptedAgentScript } from "@optio/agents/testing";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startDashboard } from "./server.mjs";

type Dashboard = Awaited<ReturnType<typeof startDashboard>>;

let browser: Browser;
let root: string;
let dashboard: Dashboard | undefined;
const savedEnv = { ...process.env };

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
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

/**
 * The scripted stand-in, installed as `claude` where the claudecode adapter
 * looks (via OPTIO_DASHBOARD_AGENT_DIR): a few lines deliver a report and
 * report progress, then the scripted agent's interactive scenario keeps the
 * terminal open until the task is cancelled.
 */
async function installStandIn(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const scripted = join(dir, "scripted-agent");
  await writeFile(scripted, scriptedAgentScript({ versionOutput: "2.1.332 (Claude Code)" }), { mode: 0o755 });
  const claude = join(dir, "claude");
  await writeFile(
    claude,
    [
      "#!/bin/sh",
      `if [ "$1" = "--version" ]; then exec ${scripted} --version; fi`,
      "mkdir -p deliverables",
      "printf 'dashboard stand-in report\\n' > deliverables/report.md",
      'echo "DELIVERABLE: deliverables/report.md" >> optio.log',
      'echo "STATUS: 40% report written" >> optio.log',
      `OPTIO_SCENARIO=interactive exec ${scripted} "$@"`,
      "",
    ].join("\n"),
  );
  await chmod(claude, 0o755);
}

async function openDashboard(page: Page, d: Dashboard): Promise<void> {
  await page.goto(d.url);
  await page.locator("#agent option").first().waitFor({ state: "attached", timeout: 15_000 });
}

async function startFromPage(page: Page, instructions: string): Promise<string> {
  await page.locator("#agent").selectOption("claudecode");
  await page.locator("#instructions").fill(instructions);
  const created = page.waitForResponse((r) => r.url().endsWith("/api/tasks") && r.request().method() === "POST", { timeout: 15_000 });
  await page.locator("#start-button").click();
  const response = await created;
  expect(response.status()).toBe(201);
  return ((await response.json()) as { processId: string }).processId;
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
    const post = await fetch(`${origin}/api/tasks`, { method: "POST", body: JSON.stringify({ agent: "claudecode", instructions: "x" }) });
    expect(post.status).toBe(401);
    const message = await fetch(`${origin}/api/tasks/x/message`, { method: "POST", body: JSON.stringify({ text: "x" }) });
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
      await openDashboard(page, dashboard);
      const processId = await startFromPage(page, "write a report");
      const row = page.locator(`tr[data-process-id="${processId}"]`);

      await expect.poll(() => row.locator(".progress-text").textContent(), { timeout: 60_000 }).toContain("40% report written");

      const frame = page.locator("#terminal-frame");
      const terminal = page.frameLocator("#terminal-frame").locator(".xterm-rows");
      await expect.poll(() => terminal.textContent(), { timeout: 60_000 }).toContain("scripted agent ready>");
      await page.locator("#message-text").fill("hello from the dashboard");
      const sent = page.waitForResponse((r) => r.url().endsWith(`/api/tasks/${processId}/message`), { timeout: 15_000 });
      await page.locator("#message-button").click();
      expect((await sent).status()).toBe(202);
      await expect.poll(() => terminal.textContent(), { timeout: 15_000 }).toContain("you said: hello from the dashboard");
      expect(await page.locator("#message-text").inputValue()).toBe("");
      const firstUrl = await frame.getAttribute("src");
      expect(firstUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);

      const link = row.locator("a.deliverable").first();
      await link.waitFor({ timeout: 60_000 });
      expect(await link.textContent()).toBe("report.md");
      const [download] = await Promise.all([page.waitForEvent("download", { timeout: 15_000 }), link.click()]);
      expect(download.suggestedFilename()).toBe("report.md");
      expect(await readFile(await download.path(), "utf8")).toBe("dashboard stand-in report\n");

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

  it("shows Claude Code's own screen in the terminal frame (real claude from the npm registry)", async () => {
    dashboard = await startDashboard({ dataDir: join(root, "data"), agentDir: join(root, "claude-bin"), log: () => {} });
    const page = await browser.newPage();
    try {
      await openDashboard(page, dashboard);
      const processId = await startFromPage(page, "Say hello.");
      const row = page.locator(`tr[data-process-id="${processId}"]`);
      await expect.poll(() => row.locator(".status").textContent(), { timeout: 300_000, interval: 500 }).toBe("running");
      const terminal = page.frameLocator("#terminal-frame").locator(".xterm-rows");
      await expect.poll(() => terminal.textContent(), { timeout: 60_000, interval: 500 }).toContain("Claude Code");
      await row.locator("button.cancel").click();
      await expect.poll(() => row.locator(".status").textContent(), { timeout: 60_000 }).toBe("cancelled");
    } finally {
      await page.close();
    }
  }, 420_000);
});
