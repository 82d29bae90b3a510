import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
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

/** The scripted stand-in agent, installed where the claudecode adapter looks for `claude`. */
async function installStandIn(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, "claude");
  await writeFile(file, scriptedAgentScript());
  await chmod(file, 0o755);
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
    const ok = await fetch(`${origin}/api/agents`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toContainEqual({ id: "claudecode", displayName: "Claude Code" });
    expect(dashboard.url).toBe(`${origin}/#token=${token}`);
    expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("runs a task from the page with the scripted stand-in: progress, terminal, deliverable, cancel, resume", async () => {
    const agentDir = join(root, "agent");
    await installStandIn(agentDir);
    process.env.OPTIO_SCENARIO = "interactive";
    dashboard = await startDashboard({ dataDir: join(root, "data"), agentDir, log: () => {} });
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    try {
      await openDashboard(page, dashboard);
      const processId = await startFromPage(page, "write a report");
      const row = page.locator(`tr[data-process-id="${processId}"]`);

      await expect.poll(() => row.locator(".progress-text").textContent(), { timeout: 60_000 }).toMatch(/\d+%/);

      const terminal = page.frameLocator("#terminal-frame").locator(".xterm-rows");
      await expect.poll(() => terminal.textContent(), { timeout: 60_000 }).toMatch(/\S/);
      const firstScreen = (await terminal.textContent()) ?? "";

      const link = row.locator("a.deliverable").first();
      await link.waitFor({ timeout: 60_000 });
      const name = (await link.textContent()) ?? "";
      const [download] = await Promise.all([page.waitForEvent("download", { timeout: 15_000 }), link.click()]);
      const saved = await download.path();
      const onDisk = await readFile(join(dashboard.dataDir, "deliverables", processId, name), "utf8");
      expect(await readFile(saved, "utf8")).toBe(onDisk);
      expect(onDisk.length).toBeGreaterThan(0);

      await row.locator("button.cancel").click();
      await expect.poll(() => row.locator(".status").textContent(), { timeout: 60_000 }).toBe("cancelled");
      await expect.poll(() => page.locator("#terminal").isHidden(), { timeout: 15_000 }).toBe(true);

      await row.locator("button.resume").click();
      await expect.poll(() => row.locator(".status").textContent(), { timeout: 60_000 }).toBe("running");
      await expect.poll(() => page.locator("#terminal-task").textContent(), { timeout: 15_000 }).toBe(processId);
      await expect.poll(() => terminal.textContent(), { timeout: 60_000 }).toMatch(/\S/);
      expect(firstScreen).toMatch(/\S/);
    } finally {
      await context.close();
    }
  });

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
