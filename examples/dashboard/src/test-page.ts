import type { Page } from "playwright-core";
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
  const created = page.waitForResponse((r) => r.url().endsWith("/api/tasks") && r.request().method() === "POST", { timeout: 15_000 });
  await page.locator("#start-button").click();
  const response = await created;
  expect(response.status()).toBe(201);
  return ((await response.json()) as { processId: string }).processId;
}
