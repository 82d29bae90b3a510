import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { agentWorkSuite } from "@optio/agents/testing";
import { startTestSshd } from "@optio/host/testing";
import { claudeCode } from "./claude-code.js";
import { REAL_CLAUDE_DIRS, REAL_CLAUDE_VERSION } from "./test-context.js";

// The real claude doing a task by itself against a scripted model on 127.0.0.1: nobody types.
agentWorkSuite(claudeCode, {
  installConfig: (installDir) => ({
    installDir,
    installStrategies: ["npm-registry"],
    agentVersion: REAL_CLAUDE_VERSION,
    // The same machine: over SSH too the cache the first install filled is reused instead of a 200 MB copy.
    installCacheDir: join(homedir(), ".cache/optio/claude"),
  }),
  unattendedConfig: { permissionMode: "bypassPermissions" },
  shellTool: "Bash",
  promptOnScreen: "bypass permissions on",
  cli: {
    path: fileURLToPath(new URL("../dist/cli.js", import.meta.url)),
    flags: ["--permission-mode", "bypassPermissions"],
  },
  realDirs: REAL_CLAUDE_DIRS,
  ssh: startTestSshd,
});
