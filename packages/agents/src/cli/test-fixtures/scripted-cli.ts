// The shared CLI with the scripted stand-in agent, as a real process: the
// Ctrl-C test runs it with `node --import ./register-ts.mjs`.
import { createScriptedAdapter } from "../../testing.js";
import { runCli } from "../run-cli.js";

process.exit(
  await runCli(createScriptedAdapter(), process.argv.slice(2), {}, { bin: "optio-scripted", version: "0.0.0-test" }),
);
