import { describe, expect, it } from "vitest";
import { createScriptedAdapter } from "../testing/scripted-adapter.js";
import { adapterTasks } from "./agent-task.js";

describe("adapterTasks", () => {
  it("creates the adapter's tasks, parsing their config at creation", () => {
    const tasks = adapterTasks<Record<string, unknown>>(createScriptedAdapter());
    const task = tasks.createTask({ processId: "p1", name: "bound", description: "d", config: {} });
    expect(task).toMatchObject({ processId: "p1", name: "bound", description: "d" });
    expect(() => tasks.createTask({ processId: "p2", name: "bad", config: { notAField: 1 } })).toThrow(/notAField/);
  });
});
