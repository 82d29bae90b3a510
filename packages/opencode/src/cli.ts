import { createRequire } from "node:module";
import { runCli } from "@optio/agents/cli";
import { openCode } from "./open-code.js";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

process.exit(await runCli(openCode, process.argv.slice(2), undefined, { bin: "optio-opencode", version }));
