import { homedir } from "node:os";
import { join } from "node:path";
import { agentStateSuite } from "@optio/agents/testing";
import { startTestSshd } from "@optio/host/testing";
import { openCode } from "./open-code.js";
import { REAL_OPENCODE_VERSION } from "./test-context.js";

agentStateSuite(openCode, {
  installConfig: (installDir) => ({
    installDir,
    installStrategies: ["npm-registry"],
    agentVersion: REAL_OPENCODE_VERSION,
    installCacheDir: join(homedir(), ".cache/optio/opencode"),
  }),
  askingConfig: { opencodeConfig: { permission: { bash: "ask" } } },
  unattendedConfig: { opencodeConfig: { permission: { bash: "allow" } } },
  shellTool: "bash",
  permissionPrompt: "Permission required",
  approveKeys: openCode.permissionKeys!.approve,
  denyKeys: openCode.permissionKeys!.deny,
  afterDeny: "Do not create it.",
  refusal: /rejected permission/,
  ssh: () => startTestSshd(),
});
