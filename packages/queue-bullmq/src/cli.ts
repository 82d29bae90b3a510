#!/usr/bin/env node
import { runQueueCli } from "./queue-cli.js";

const stopRequested = new Promise<void>((resolve) => {
  process.once("SIGINT", () => resolve());
  process.once("SIGTERM", () => resolve());
});

process.exitCode = await runQueueCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  stopRequested,
});
process.exit();
