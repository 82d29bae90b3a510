import { createRequire } from "node:module";
import { runCli } from "@optio/agents/cli";
import { codex } from "./codex.js";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

process.exit(await runCli(codex, process.argv.slice(2), undefined, { bin: "optio-codex", version }));
