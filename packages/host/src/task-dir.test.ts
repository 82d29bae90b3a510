import { describe, expect, it } from "vitest";
import { UnsafeProcessIdError } from "./errors.js";
import { resolveTaskDir, resolveTaskRoot, validateProcessId } from "./task-dir.js";

describe("resolveTaskDir", () => {
  it("uses <CONSUMER>_TASK_ROOT first, with - turned into _", () => {
    const env = { MY_AGENT_TASK_ROOT: "/srv/tasks", XDG_DATA_HOME: "/xdg" };
    expect(resolveTaskDir({ consumer: "my-agent", processId: "p1", env, home: "/home/u" })).toBe("/srv/tasks/p1");
  });

  it("falls back to $XDG_DATA_HOME/<consumer>, then <home>/.local/share/<consumer>", () => {
    expect(
      resolveTaskDir({ consumer: "claudecode", processId: "p1", env: { XDG_DATA_HOME: "/xdg" }, home: "/home/u" }),
    ).toBe("/xdg/claudecode/p1");
    expect(resolveTaskDir({ consumer: "claudecode", processId: "p1", env: {}, home: "/home/u" })).toBe(
      "/home/u/.local/share/claudecode/p1",
    );
  });

  it("uses <CONSUMER>_REMOTE_TASK_ROOT or /tmp/<consumer> for a remote host", () => {
    expect(
      resolveTaskDir({
        consumer: "claudecode",
        processId: "p1",
        remote: true,
        env: { CLAUDECODE_TASK_ROOT: "/local" },
      }),
    ).toBe("/tmp/claudecode/p1");
    expect(
      resolveTaskDir({
        consumer: "claudecode",
        processId: "p1",
        remote: true,
        env: { CLAUDECODE_REMOTE_TASK_ROOT: "/r/" },
      }),
    ).toBe("/r/p1");
  });

  it("rejects unsafe process ids and consumers", () => {
    for (const id of ["../x", "a b", "a;rm", "", "..", ".", "a/b", "x\n", "p".repeat(129), "p".repeat(5000)]) {
      expect(() => resolveTaskDir({ consumer: "c", processId: id, env: {} }), id).toThrow(UnsafeProcessIdError);
      expect(() => validateProcessId(id), id).toThrow(UnsafeProcessIdError);
    }
    expect(() => resolveTaskRoot({ consumer: "../c", env: {} })).toThrow(UnsafeProcessIdError);
    expect(validateProcessId("run-1.2_A")).toBe("run-1.2_A");
    expect(validateProcessId("p".repeat(128))).toBe("p".repeat(128));
  });
});
