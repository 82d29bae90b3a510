import { createRequire } from "node:module";
import { type CliExtraOption, runCli } from "@optio/agents/cli";
import { codex } from "./codex.js";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

const codexConfig: CliExtraOption = {
  name: "codex-config",
  type: "string",
  multiple: true,
  valueName: "KEY=VALUE",
  description: 'A Codex setting for this task, the value TOML (`model="o3"`); repeatable.',
  apply: (config, value) => void (config.codexOverrides = value),
};
const options = { bin: "optio-codex", version, extraOptions: [codexConfig] };

process.exit(await runCli(codex, process.argv.slice(2), undefined, options));
