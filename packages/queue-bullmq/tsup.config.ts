import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/testing.ts", "src/cli.ts"],
  format: ["esm"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "node20",
  // zod is built in, tree-shaken, as in the other packages: the whole zod package costs a process several MB.
  noExternal: ["zod"],
});
