import { adapterContractSuite } from "@optio/agents/testing";
import { startTestSshd } from "@optio/host/testing";
import { codex } from "./codex.js";

// The shared checklist, with the scripted stand-in named `codex` in the adapter's own install dir.
adapterContractSuite(codex, {
  makeConfig: ({ installDir }) => ({ installDir, installIfMissing: false }),
  placeScriptedAgent: { binaryName: "codex", versionOutput: "codex-cli 0.171.0" },
  ssh: startTestSshd,
});
