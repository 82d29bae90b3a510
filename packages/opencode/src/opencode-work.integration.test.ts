import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { agentWorkSuite } from "@optio/agents/testing";
import { startTestSshd } from "@optio/host/testing";
import { expect } from "vitest";
import { openCode } from "./open-code.js";
import { REAL_OPENCODE_DIRS, REAL_OPENCODE_VERSION } from "./test-context.js";

// The real opencode doing a task by itself against a scripted model on 127.0.0.1: nobody types.
agentWorkSuite(openCode, {
  installConfig: (installDir) => ({
    installDir,
    installStrategies: ["npm-registry"],
    agentVersion: REAL_OPENCODE_VERSION,
    installCacheDir: join(homedir(), ".cache/optio/opencode"),
  }),
  shellTool: "bash",
  promptOnScreen: "Ask anything",
  cli: { path: fileURLToPath(new URL("../dist/cli.js", import.meta.url)) },
  realDirs: REAL_OPENCODE_DIRS,
  ssh: startTestSshd,
  checkRequests(requests) {
    // Nothing but the model API: no registry or models.dev traffic was routed here, and none could leave.
    expect(requests.filter((r) => !r.path.startsWith("/v1/messages")).map((r) => r.path)).toEqual([]);
  },
});
