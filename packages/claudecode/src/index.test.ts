import { describe, expect, it } from "vitest";
import * as api from "./index.js";

describe("the public exports", () => {
  it("hold the adapter, the task helpers, the seed helpers and the config schema", () => {
    for (const name of [
      "claudeCode",
      "createClaudeCode",
      "createClaudeCodeTask",
      "runClaudeCodeSession",
      "listSeeds",
      "deleteSeed",
      "claudeCodeConfigSchema",
      "parseClaudeCodeConfig",
      "CLAUDE_SEED_MANIFEST",
      "HostCommandError",
      "OptioError",
      "OptioConfigError",
    ] as const) {
      expect(typeof api[name], name).not.toBe("undefined");
    }
    expect(api.claudeCode.id).toBe("claudecode");
  });

  it("builds a task from a config", () => {
    const task = api.createClaudeCodeTask({
      processId: "exports-1",
      name: "exports",
      config: { permissionMode: "plan" },
    });
    expect(task).toMatchObject({ processId: "exports-1", name: "exports" });
    expect(typeof task.run).toBe("function");
  });
});
