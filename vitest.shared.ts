import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { adapterVitestPreset } from "./packages/agents/src/vitest-preset.ts";

const pkg = (name: string, entry: string) =>
  fileURLToPath(new URL(`./packages/${name}/src/${entry}.ts`, import.meta.url));

/** Tests run against the workspace packages' sources, so a change needs no rebuild to be tested. */
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@optio\/host$/, replacement: pkg("host", "index") },
      { find: /^@optio\/host\/ssh-config$/, replacement: pkg("host", "ssh-config") },
      { find: /^@optio\/host\/testing$/, replacement: pkg("host", "testing") },
      { find: /^@optio\/agents$/, replacement: pkg("agents", "index") },
      { find: /^@optio\/agents\/testing$/, replacement: pkg("agents", "testing") },
      { find: /^@optio\/claudecode$/, replacement: pkg("claudecode", "index") },
      { find: /^@optio\/store-postgres$/, replacement: pkg("store-postgres", "index") },
      { find: /^@optio\/store-postgres\/testing$/, replacement: pkg("store-postgres", "testing") },
      { find: /^@optio\/opencode$/, replacement: pkg("opencode", "index") },
      { find: /^@optio\/codex$/, replacement: pkg("codex", "index") },
    ],
  },
  test: adapterVitestPreset.test,
});
