import { adapterContractSuite } from "@optio/agents/testing";
import { startTestSshd } from "@optio/host/testing";
import { openCode } from "./open-code.js";

// The shared checklist, with the scripted stand-in named `opencode` in the adapter's own install dir.
adapterContractSuite(openCode, {
  makeConfig: ({ installDir }) => ({ installDir, installIfMissing: false }),
  placeScriptedAgent: { binaryName: "opencode", versionOutput: "1.18.34" },
  ssh: startTestSshd,
});
