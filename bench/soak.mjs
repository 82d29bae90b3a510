// pnpm soak: start → cancel cycles of the scripted agent locally and over SSH,
// random-instant cancels, then a flood of STATUS lines through one session (see soak-lib.mjs).
// Prints one JSON object of figures; exits 1 when anything leaked or was lost.
//
// Between the cycles and the flood, --random-cancels local tasks are cancelled at random instants of their start.
//
//   node bench/soak.mjs [--cycles N] [--lines N] [--random-cancels N]   (defaults: 200, 1,000,000, 200)
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

if (typeof globalThis.gc !== "function") {
  // Memory is compared after a forced collection: run again with the collector exposed.
  const child = spawn(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  child.once("error", (error) => {
    process.stderr.write(`soak: ${error.message}\n`);
    process.exit(2);
  });
  child.once("close", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  const { runSoak, soakFailed } = await import("./soak-lib.mjs");
  const { values } = parseArgs({
    options: {
      cycles: { type: "string", default: "200" },
      lines: { type: "string", default: "1000000" },
      "random-cancels": { type: "string", default: "200" },
    },
  });
  const count = (name, text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) {
      process.stderr.write(`soak: --${name} must be a positive integer, not ${JSON.stringify(text)}\n`);
      process.exit(2);
    }
    return n;
  };
  const figures = await runSoak({
    cycles: count("cycles", values.cycles),
    lines: count("lines", values.lines),
    randomCancels: count("random-cancels", values["random-cancels"]),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const rounded = Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Math.round(v * 1000) / 1000]));
  process.stdout.write(`${JSON.stringify(rounded)}\n`);
  if (soakFailed(figures)) {
    process.stderr.write("soak: leaked or lost something (see the figures above)\n");
    process.exitCode = 1;
  }
}
