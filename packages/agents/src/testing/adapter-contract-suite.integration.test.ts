import { startTestSshd } from "@optio/host/testing";
import { adapterContractSuite } from "./adapter-contract-suite.js";
import { SCRIPTED_BINARY, createScriptedAdapter } from "./scripted-adapter.js";

adapterContractSuite(createScriptedAdapter(), {
  makeConfig: ({ installDir }) => ({ installDir, installIfMissing: false }),
  placeScriptedAgent: { binaryName: SCRIPTED_BINARY, versionOutput: "scripted-agent 1.0.0" },
  ssh: startTestSshd,
});
