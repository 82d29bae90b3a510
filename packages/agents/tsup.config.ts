import { defineConfig } from "tsup";

export default defineConfig({
  entry: [
    "src/index.ts",
    "src/terminal.ts",
    "src/cli.ts",
    "src/install.ts",
    "src/store.ts",
    "src/testing.ts",
    "src/vitest-preset.ts",
  ],
  format: ["esm"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "node20",
  // zod is built in, tree-shaken: importing the zod package whole costs a process about 7 MB of memory for the few schemas used here.
  noExternal: ["zod"],
});
