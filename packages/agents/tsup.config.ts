import { packageBuild } from "../../tsup.shared.ts";

export default packageBuild({
  entry: [
    "src/index.ts",
    "src/terminal.ts",
    "src/cli.ts",
    "src/install.ts",
    "src/store.ts",
    "src/testing.ts",
    "src/vitest-preset.ts",
  ],
});
