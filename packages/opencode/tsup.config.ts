import { packageBuild } from "../../tsup.shared.ts";

export default packageBuild({
  entry: { index: "src/index.ts", cli: "src/cli.ts", install: "src/install-entry.ts" },
  // Makes dist/cli.js runnable as the package's bin; a hashbang line is harmless in the library entry.
  banner: { js: "#!/usr/bin/env node" },
});
