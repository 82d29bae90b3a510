import { adapterContractSuite } from "@optio/agents/testing";
import { startTestSshd } from "@optio/host/testing";
import { claudeCode } from "./claude-code.js";

adapterContractSuite(claudeCode, {
  makeConfig: ({ installDir }: { installDir: string }) => ({ installDir, installIfMissing: false }),
  placeScriptedAgent: { binaryName: "claude", versionOutput: "2.1.332 (Claude Code)" },
  ssh: startTestSshd,
});
