import { defineConfig, type Options } from "tsup";

/**
 * One build for every package: ESM with types and source maps for Node 20.
 * zod is built in, tree-shaken: importing the zod package whole costs a
 * process about 7 MB of memory for the few schemas a package uses.
 */
export function packageBuild(own: Pick<Options, "entry" | "banner">) {
  return defineConfig({
    format: ["esm"],
    dts: true,
    clean: true,
    sourcemap: true,
    target: "node20",
    noExternal: ["zod"],
    ...own,
  });
}
