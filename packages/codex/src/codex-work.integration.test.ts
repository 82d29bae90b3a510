import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { agentWorkSuite } from "@optio/agents/testing";
import { startTestSshd } from "@optio/host/testing";
import { expect } from "vitest";
import { codex } from "./codex.js";
import { LOCAL_ONLY, REAL_CODEX_DIRS, REAL_CODEX_VERSION } from "./test-context.js";

/**
 * What lets the real Codex work alone against the scripted model. A model
 * Codex has no metadata for gets its plain function tools (the shell is
 * `exec_command` with `{ cmd }`); its default model gets a JavaScript `exec`
 * tool instead. `approval_policy="never"` runs the scripted commands unasked
 * and `workspace-write` keeps them in Codex's sandbox: its bundled bwrap works
 * in this container, as root too, so the workdir is writable and the rest of
 * the disk is not. No plugins: their sync clones a repository from github.com.
 */
const UNATTENDED = [
  'model="scripted-model"',
  'approval_policy="never"',
  'sandbox_mode="workspace-write"',
  `chatgpt_base_url="${LOCAL_ONLY.apiBaseUrl}/backend-api/"`,
  "features.plugins=false",
];

// The real Codex doing a task by itself against a scripted model on 127.0.0.1: nobody types.
agentWorkSuite(codex, {
  installConfig: (installDir) => ({
    installDir,
    installStrategies: ["npm-registry"],
    agentVersion: REAL_CODEX_VERSION,
    installCacheDir: join(homedir(), ".cache/optio/codex"),
  }),
  unattendedConfig: { codexOverrides: UNATTENDED },
  shellTool: "exec_command",
  shellInput: (cmd) => ({ cmd }),
  apiKeyEnv: "OPENAI_API_KEY",
  env: LOCAL_ONLY.env,
  promptOnScreen: "Ask Codex",
  cli: {
    path: fileURLToPath(new URL("../dist/cli.js", import.meta.url)),
    flags: UNATTENDED.flatMap((setting) => ["--codex-config", setting]),
  },
  realDirs: REAL_CODEX_DIRS,
  ssh: startTestSshd,
  checkRequests(requests) {
    // Nothing but the Responses API (a WebSocket try, then HTTP): no ChatGPT backend traffic was routed here.
    expect(new Set(requests.map((r) => r.path))).toEqual(new Set(["/v1/responses"]));
  },
});
