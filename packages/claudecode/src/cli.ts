import { createRequire } from "node:module";
import { type CliExtraOption, runCli } from "@optio/agents/cli";
import { claudeCode } from "./claude-code.js";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

const toolList = (field: "allowedTools" | "disallowedTools", name: string, what: string): CliExtraOption => ({
  name,
  type: "string",
  valueName: "TOOL,…",
  description: `Comma-separated tools claude ${what} (passed as --${name}).`,
  apply(config, value) {
    config[field] = String(value)
      .split(",")
      .map((tool) => tool.trim())
      .filter(Boolean);
  },
});

process.exit(
  await runCli(claudeCode, process.argv.slice(2), undefined, {
    bin: "optio-claudecode",
    version,
    extraOptions: [
      toolList("allowedTools", "allowed-tools", "may use without asking"),
      toolList("disallowedTools", "disallowed-tools", "must not use"),
    ],
  }),
);
