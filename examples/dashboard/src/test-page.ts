import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { scriptedAgentScript } from "@optio/agents/testing";
import type { Locator, Page } from "playwright-core";
import { expect } from "vitest";

/** Opens the dashboard's link and waits for its agent list. */
export async function openDashboard(page: Page, dashboard: { url: string }): Promise<void> {
  await page.goto(dashboard.url);
  await page.locator("#agent option").first().waitFor({ state: "attached", timeout: 15_000 });
}

/** Starts a task of `agent` from the open page; its processId. */
export async function startFromPage(page: Page, instructions: string, agent = "claudecode"): Promise<string> {
  await page.locator("#agent").selectOption(agent);
  await page.locator("#instructions").fill(instructions);
  const created = page.waitForResponse((r) => r.url().endsWith("/api/tasks") && r.request().method() === "POST", {
    timeout: 15_000,
  });
  await page.locator("#start-button").click();
  const response = await created;
  expect(response.status()).toBe(201);
  return ((await response.json()) as { processId: string }).processId;
}

/**
 * The scripted stand-in, installed as `claude` where the claudecode adapter
 * looks (via OPTIO_DASHBOARD_AGENT_DIR): a few lines deliver a report and
 * report progress, then the scripted agent's interactive scenario keeps the
 * terminal open until the task is cancelled.
 */
export async function installStandIn(dir: string): Promise<void> {
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

/** Clicks a deliverable's link and returns the file the browser saved. */
export async function download(page: Page, link: Locator): Promise<{ name: string; text: string }> {
  const [file] = await Promise.all([page.waitForEvent("download", { timeout: 15_000 }), link.click()]);
  return { name: file.suggestedFilename(), text: await readFile(await file.path(), "utf8") };
}

/** Starts "write a report" from the page, for the stand-in `installStandIn` makes; its row once the report is written. */
export async function startStandInReport(
  page: Page,
  dashboard: { url: string },
): Promise<{ processId: string; row: Locator }> {
  await openDashboard(page, dashboard);
  const processId = await startFromPage(page, "write a report");
  const row = page.locator(`tr[data-process-id="${processId}"]`);
  await expect
    .poll(() => row.locator(".progress-text").textContent(), { timeout: 60_000 })
    .toContain("40% report written");
  return { processId, row };
}
