import { homedir } from "node:os";
import { join } from "node:path";
import { agentStateSuite } from "@optio/agents/testing";
import { startTestSshd } from "@optio/host/testing";
import { claudeCode } from "./claude-code.js";
import { REAL_CLAUDE_VERSION } from "./test-context.js";

agentStateSuite(claudeCode, {
  installConfig: (installDir) => ({
    installDir,
    installStrategies: ["npm-registry"],
    agentVersion: REAL_CLAUDE_VERSION,
    installCacheDir: join(homedir(), ".cache/optio/claude"),
  }),
  askingConfig: { permissionMode: "default" },
  unattendedConfig: { permissionMode: "default", allowedTools: ["Bash"] },
  shellTool: "Bash",
  permissionPrompt: "Do you want to proceed?",
  approveKeys: claudeCode.permissionKeys!.approve,
  denyKeys: claudeCode.permissionKeys!.deny,
  afterDeny: "Do not create it.",
  refusal: /doesn't want to (proceed|take this action)/,
  consumerHook: (marker) => ({
    claudeConfig: { hooks: { Stop: [{ hooks: [{ type: "command", command: `echo turn-ended >> '${marker}'` }] }] } },
  }),
  ssh: () => startTestSshd(),
});
