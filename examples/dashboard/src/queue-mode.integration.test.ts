import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { exitOf } from "@optio/host/testing";
import { scriptedInputs, scriptedStarts, startTestRedis, type TestRedis } from "@optio/queue-bullmq/testing";
import { startTestPostgres, type TestPostgres } from "@optio/store-postgres/testing";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startQueueDashboard } from "./queue-mode.mjs";
import { launchBrowser, startOptioWorker } from "./test-servers.js";
import { download, installStandIn, openDashboard, startFromPage, startStandInReport } from "./test-page.js";

const KINDS = fileURLToPath(new URL("./test-fixtures/scripted-kinds.mjs", import.meta.url));
const WORKERS = ["dash-a", "dash-b"];

let browser: Browser;
let redis: TestRedis;
let postgres: TestPostgres;
let root: string;
let databaseUrl: string;
let dashboard: Awaited<ReturnType<typeof startQueueDashboard>>;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  [redis, postgres, browser] = await Promise.all([startTestRedis(), startTestPostgres(), launchBrowser()]);
  root = await mkdtemp(join(tmpdir(), "optio-dashboard-queue-"));
  process.env.OPTIO_SCRIPTED_ROOT = root;
  databaseUrl = await postgres.createDatabase("dashboard");
  const agentDir = join(root, "agent");
  await installStandIn(agentDir);
  // Task dirs live under $XDG_DATA_HOME/<agent>: keep them in the sandbox.
  const env = {
    ...process.env,
    OPTIO_SCRIPTED_ROOT: root,
    OPTIO_DASHBOARD_AGENT_DIR: agentDir,
    XDG_DATA_HOME: join(root, "xdg-data"),
  };
  // Real `optio worker` processes, as a user starts them on each machine.
  const settings = { redisUrl: redis.url, databaseUrl, kinds: KINDS, env };
  workers.push(...(await Promise.all(WORKERS.map((id) => startOptioWorker(id, settings)))));
  dashboard = await startQueueDashboard({ redisUrl: redis.url, databaseUrl, kinds: KINDS, log: () => {} });
});

afterAll(async () => {
  await dashboard?.close();
  for (const worker of workers) worker.kill("SIGKILL");
  await Promise.all(workers.map(exitOf));
  await Promise.all([browser?.close(), redis?.stop(), postgres?.stop()]);
  delete process.env.OPTIO_SCRIPTED_ROOT;
  if (root) await rm(root, { recursive: true, force: true });
});

// A test that failed half-way leaves no task running into the next one (the page shows the first live terminal).
afterEach(async () => {
  const headers = { authorization: `Bearer ${dashboard.token}` };
  const listed = (await (await fetch(`${dashboard.origin}/api/tasks`, { headers })).json()) as {
    processId: string;
    status: string;
  }[];
  for (const task of listed.filter((t) => ["queued", "running"].includes(t.status)))
    await fetch(`${dashboard.origin}/api/tasks/${task.processId}/cancel`, { method: "POST", headers });
});

/** POSTs `body` to the dashboard's API with its token. */
function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${dashboard.origin}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${dashboard.token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function submitFromPage(page: Page, instructions: string): Promise<string> {
  await openDashboard(page, dashboard);
  return startFromPage(page, instructions, "scripted");
}

describe("dashboard in queue mode, with two `optio worker` processes on real redis and postgres", () => {
  it("a task submitted from the page shows the worker that runs it, its progress, and ends done", async () => {
    const page = await browser.newPage();
    try {
      const processId = await submitFromPage(page, "4000");
      const row = page.locator(`tr[data-process-id="${processId}"]`);
      await expect
        .poll(() => row.locator(".progress-text").textContent(), { timeout: 30_000 })
        .toMatch(/^10% agent \d+$/);
      const shown = await row.locator(".worker").textContent();
      expect(WORKERS.map((id) => `on ${id}`)).toContain(shown);
      expect(await row.locator(".status").textContent()).toBe("running");
      await expect.poll(() => row.locator(".status").textContent(), { timeout: 30_000 }).toBe("done");
      expect(await row.locator(".progress-text").textContent()).toMatch(/^100% pid \d+$/);
      // What the page showed is what the queue recorded.
      const response = await fetch(`${dashboard.origin}/api/tasks/${processId}`, {
        headers: { authorization: `Bearer ${dashboard.token}` },
      });
      expect(await response.json()).toMatchObject({ status: "done", worker: shown?.slice(3) });
      // An ended task can be run again, on whichever worker takes it.
      expect(await row.locator(".resume").count()).toBe(1);
      // Refused, not dropped: a payload the kind's schema fails, and an SSH host the queue cannot honour.
      for (const body of [
        { agent: "scripted", instructions: "soon" },
        { agent: "scripted", instructions: "10", ssh: "me@example.test" },
      ]) {
        const refused = await fetch(`${dashboard.origin}/api/tasks`, {
          method: "POST",
          headers: { authorization: `Bearer ${dashboard.token}` },
          body: JSON.stringify(body),
        });
        expect(refused.status, JSON.stringify(body)).toBe(400);
      }
    } finally {
      await page.close();
    }
  });

  it("a message from the page reaches the agent on its worker; a cancel ends the task there, and Resume runs it again", async () => {
    const page = await browser.newPage();
    try {
      const processId = await submitFromPage(page, "600000");
      const row = page.locator(`tr[data-process-id="${processId}"]`);
      const progress = () => row.locator(".progress-text").textContent();
      await expect.poll(progress, { timeout: 30_000 }).toMatch(/^10% agent \d+$/);
      await expect.poll(() => row.locator(".worker").textContent(), { timeout: 15_000 }).toMatch(/^on dash-[ab]$/);
      // The terminal URL is the one the worker's task published (the stand-in's names its task and agent).
      expect(await page.locator("#terminal-frame").getAttribute("src")).toMatch(
        new RegExp(`^http://127\\.0\\.0\\.1/${processId}/\\d+$`),
      );
      expect(await row.locator(".resume").count()).toBe(0);

      const sent = page.waitForResponse((r) => r.url().endsWith(`/api/tasks/${processId}/message`));
      await page.locator("#message-text").fill("please also update the docs");
      await page.locator("#message-button").click();
      expect((await sent).status()).toBe(202);
      // Typed into the agent by the worker that runs it (the stand-in records what it was sent).
      expect(await scriptedInputs(root, processId)).toEqual(['text "please also update the docs" submit']);

      const cancelled = page.waitForResponse((r) => r.url().endsWith(`/api/tasks/${processId}/cancel`), {
        timeout: 15_000,
      });
      await row.locator(".cancel").click();
      expect((await cancelled).status()).toBe(202);
      await expect.poll(() => row.locator(".status").textContent(), { timeout: 10_000 }).toBe("cancelled");
      expect(await row.locator(".cancel").count()).toBe(0);
      const late = await post(`/api/tasks/${processId}/message`, { text: "too late" });
      expect(late.status).toBe(409);

      const resumed = page.waitForResponse((r) => r.url().endsWith(`/api/tasks/${processId}/resume`));
      await row.locator(".resume").click();
      expect((await resumed).status()).toBe(202);
      await expect.poll(() => row.locator(".status").textContent(), { timeout: 30_000 }).toBe("running");
      await expect.poll(progress, { timeout: 30_000 }).toMatch(/^10% agent \d+$/);
      expect((await scriptedStarts(root, processId)).map((start) => start.resumed)).toEqual([false, true]);
      expect((await post(`/api/tasks/${processId}/resume`, {})).status).toBe(409);
    } finally {
      await page.close();
    }
  });

  it("an agent's deliverable travels through the shared store: listed on the page and downloaded from PostgreSQL", async () => {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    try {
      const { processId, row } = await startStandInReport(page, dashboard);
      await expect.poll(() => row.locator(".worker").textContent(), { timeout: 15_000 }).toMatch(/^on dash-[ab]$/);
      const link = row.locator("a.deliverable");
      await expect.poll(() => link.textContent(), { timeout: 30_000 }).toBe("report.md");
      expect(await download(page, link)).toEqual({ name: "report.md", text: "dashboard stand-in report\n" });
      // A dashboard started after the report was made lists the deliverable too: the queue kept the report.
      const later = await startQueueDashboard({ redisUrl: redis.url, databaseUrl, kinds: KINDS, log: () => {} });
      const laterPage = await context.newPage();
      try {
        await openDashboard(laterPage, later);
        const laterLink = laterPage.locator(`tr[data-process-id="${processId}"] a.deliverable`);
        expect(await laterLink.textContent()).toBe("report.md");
        expect(await download(laterPage, laterLink)).toEqual({
          name: "report.md",
          text: "dashboard stand-in report\n",
        });
      } finally {
        await laterPage.close();
        await later.close();
      }
      // The agent's terminal, served by the worker that runs it.
      await row.locator(".open-terminal").click();
      await expect
        .poll(() => page.locator("#terminal-frame").getAttribute("src"), { timeout: 30_000 })
        .toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
      await row.locator(".cancel").click();
      await expect.poll(() => row.locator(".status").textContent(), { timeout: 30_000 }).toBe("cancelled");
    } finally {
      await context.close();
    }
  }, 180_000);
});
