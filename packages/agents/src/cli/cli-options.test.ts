import { z } from "zod";
import { describe, expect, it } from "vitest";
import { agentTaskConfigSchema, defineAgentConfigSchema } from "../spec/config.js";
import { optionHelp, permissionModeOption, runOptionSpecs } from "./cli-options.js";

describe("permissionModeOption", () => {
  it("is offered when the config schema has permissionMode, listing its values", () => {
    const schema = defineAgentConfigSchema({
      permissionMode: z.enum(["default", "plan", "bypassPermissions"]).default("default"),
    });
    const option = permissionModeOption(schema);
    expect(option?.name).toBe("permission-mode");
    expect(option?.description).toContain("default, plan, bypassPermissions");
    const config: Record<string, unknown> = {};
    option?.apply(config, "plan");
    expect(config).toEqual({ permissionMode: "plan" });
  });

  it("is absent for a schema without the field", () => {
    expect(permissionModeOption(agentTaskConfigSchema)).toBeNull();
  });
});

describe("optionHelp", () => {
  it("has a line for every option with its value name", () => {
    const text = optionHelp(runOptionSpecs);
    for (const spec of runOptionSpecs) {
      expect(text).toContain(`--${spec.name}${spec.type === "string" ? ` ${spec.valueName}` : ""}`);
      expect(text).toContain(spec.description);
    }
  });
});
