import { posix } from "node:path";
import type { AdapterContext, SeedManifest } from "@optio/agents";
import { CLAUDE_JSON, readJsonObject } from "./plant.js";
import { withStateHooks } from "./state-hooks.js";

/** Re-keys `projects` to `workdir`: every entry merges into one (the current workdir's last), trusted. */
export function rekeyProjects(config: Record<string, unknown>, workdir: string): Record<string, unknown> {
  const projects = config.projects;
  if (typeof projects !== "object" || projects === null || Array.isArray(projects)) return config;
  const entries = Object.entries(projects as Record<string, unknown>).sort(
    ([a], [b]) => Number(a === workdir) - Number(b === workdir),
  );
  const merged: Record<string, unknown> = {};
  for (const [, value] of entries) {
    if (typeof value === "object" && value !== null && !Array.isArray(value)) Object.assign(merged, value);
  }
  merged.hasTrustDialogAccepted = true;
  return { ...config, projects: { [workdir]: merged } };
}

/** A seed is a login: credentials, settings, plugins and claude's global config; never transcripts. */
export const CLAUDE_SEED_MANIFEST: SeedManifest = {
  include: [
    "home/.claude/.credentials.json",
    "home/.claude/settings.json",
    "home/.claude/plugins",
    `home/${CLAUDE_JSON}`,
    "home/.claude.json",
  ],
  async consume(ctx: AdapterContext): Promise<void> {
    for (const relative of [CLAUDE_JSON, ".claude.json"]) {
      const path = posix.join(ctx.home, relative);
      const config = await readJsonObject(ctx.host, path);
      const rekeyed = config && rekeyProjects(config, ctx.workdir);
      if (rekeyed && rekeyed !== config)
        await ctx.host.writeText(path, `${JSON.stringify(rekeyed, null, 2)}\n`, { mode: 0o600 });
    }
    // A seed's settings replaced the planted ones: optio's state hooks go back in beside the seed's.
    const settingsPath = posix.join(ctx.home, ".claude/settings.json");
    const settings = await readJsonObject(ctx.host, settingsPath);
    if (settings)
      await ctx.host.writeText(settingsPath, `${JSON.stringify(withStateHooks(settings), null, 2)}\n`, { mode: 0o600 });
  },
};
