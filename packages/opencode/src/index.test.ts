import { describe, expect, it } from "vitest";
import * as api from "./index.js";

describe("the public exports", () => {
  it("hold the adapter, the task helpers, the seed helpers and the config schema", () => {
    for (const name of [
      "openCode",
      "createOpenCode",
      "createOpenCodeTask",
      "runOpenCodeSession",
      "OPENCODE_SEED_MANIFEST",
      "listSeeds",
      "deleteSeed",
      "openCodeConfigSchema",
      "parseOpenCodeConfig",
      "OptioError",
      "OptioConfigError",
    ] as const) {
      expect(typeof api[name], name).not.toBe("undefined");
    }
    expect(api.openCode.id).toBe("opencode");
  });

  it("builds a task from a config", () => {
    const task = api.createOpenCodeTask({
      processId: "exports-1",
      name: "exports",
      config: { opencodeConfig: { model: "x/y" } },
    });
    expect(task).toMatchObject({ processId: "exports-1", name: "exports" });
    expect(typeof task.run).toBe("function");
  });
});
