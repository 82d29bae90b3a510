import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", cli: "src/cli.ts", install: "src/install-entry.ts" },
  format: ["esm"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "node20",
  // zod is built in, tree-shaken: importing the zod package whole costs a process about 7 MB of memory for the few schemas used here.
  noExternal: ["zod"],
  // Makes dist/cli.js runnable as the package's bin; a hashbang line is harmless in the library entry.
  banner: { js: "#!/usr/bin/env node" },
});
