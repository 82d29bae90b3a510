import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/cli.ts"],
  format: ["esm"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "node20",
  // Makes dist/cli.js runnable as the package's bin; a hashbang line is harmless in the library entry.
  banner: { js: "#!/usr/bin/env node" },
});
