import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startScriptedModel, type ScriptedModel } from "@optio/agents/testing";
import { exitOf } from "@optio/host/testing";
import { startTestRedis, type TestRedis } from "@optio/queue-bullmq/testing";
import { startTestPostgres, type TestPostgres } from "@optio/store-postgres/testing";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startQueueDashboard } from "./queue-mode.mjs";
import { openDashboard, startFromPage } from "./test-page.js";
import { launchBrowser, pinnedClaudeDir, startOptioWorker } from "./test-servers.js";

const bash = (command: string) => ({ name: "Bash", input: { command, description: command } });

let browser: Browser;
let redis: TestRedis;
let postgres: TestPostgres;
let model: ScriptedModel;
let root: string;
let worker: ChildProcess | undefined;
let dashboard: Awaited<ReturnType<typeof startQueueDashboard>>;

beforeAll(async () => {
  [redis, postgres, browser, model] = await Promise.all([
    startTestRedis(),
    startTestPostgres(),
    launchBrowser(),
    startScriptedModel({
      turns: [{ toolCalls: [bash("echo 'DONE: approved on the worker' >> optio.log")] }, { text: "Done." }],
    }),
  ]);
  root = await mkdtemp(join(tmpdir(), "optio-dashboard-queue-claude-"));
  const databaseUrl = await postgres.createDatabase("dashboard_claude");
  // The worker's machine has the real claude and reaches the (scripted) model; the dashboard's needs neither.
  const env = {
    ...process.env,
    OPTIO_DASHBOARD_AGENT_DIR: await pinnedClaudeDir(join(root, "claude-bin"), join(root, "install")),
    OPTIO_DASHBOARD_API_BASE_URL: model.url,
    ANTHROPIC_API_KEY: "sk-ant-scripted-dashboard-key-0123456789",
    XDG_DATA_HOME: join(root, "xdg-data"),
  };
  worker = await startOptioWorker("claude-worker", { redisUrl: redis.url, databaseUrl, env });
  dashboard = await startQueueDashboard({ redisUrl: redis.url, databaseUrl, log: () => {} });
}, 300_000);

afterAll(async () => {
  await dashboard?.close();
  worker?.kill("SIGKILL");
  if (worker) await exitOf(worker);
  await Promise.all([browser?.close(), redis?.stop(), postgres?.stop(), model?.close()]);
  if (root) await rm(root, { recursive: true, force: true });
});

describe("dashboard in queue mode with the real claude on an `optio worker`", () => {
  it("shows the agent's state from the worker and answers its permission prompt there: Approve on the page, the task ends done", async () => {
    const page = await browser.newPage();
    try {
      await openDashboard(page, dashboard);
      await page.locator("#ask").check();
      const processId = await startFromPage(page, "Report DONE.");
      const row = page.locator(`tr[data-process-id="${processId}"]`);
      const badge = row.locator(".agent-state .badge");
      await expect.poll(() => badge.textContent(), { timeout: 300_000, interval: 250 }).toBe("waiting-permission");
      expect(await badge.getAttribute("title")).toContain("DONE: approved on the worker");
      expect(await row.locator(".worker").textContent()).toBe("on claude-worker");
      await row.locator("button.approve").click();
      await expect.poll(() => row.locator(".status").textContent(), { timeout: 300_000, interval: 500 }).toBe("done");
      // The summary is the DONE line the approved command wrote: it ran because Approve was pressed.
      expect(await row.locator(".status").getAttribute("title")).toBe("approved on the worker");
      expect(await row.locator("button.approve").count()).toBe(0);
    } finally {
      await page.close();
    }
  }, 420_000);
});
