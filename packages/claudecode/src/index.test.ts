import { describe, expect, it } from "vitest";
import * as api from "./index.js";

describe("the public task creator", () => {
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
