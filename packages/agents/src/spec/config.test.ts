import {
  DEFAULT_RESTORE_MAX_BYTES,
  DEFAULT_RESTORE_MAX_ENTRIES,
  OptioConfigError,
  UnsafeProcessIdError,
} from "@optio/host";
import { describe, expect, it } from "vitest";
import { agentTaskConfigSchema, parseAgentConfig } from "./config.js";
import { createAgentTask } from "../task/agent-task.js";
import { ResumePathError } from "../resume/resume-errors.js";

const parse = (input: unknown) => () => parseAgentConfig(agentTaskConfigSchema, input);

describe("config validation up front", () => {
  it("refuses env values with a NUL byte, naming the field", () => {
    expect(parse({ env: { OK: "value" } })).not.toThrow();
    expect(parse({ env: { BAD: "a\0b" } })).toThrow(OptioConfigError);
    expect(parse({ env: { BAD: "a\0b" } })).toThrow(/env/);
  });

  it("takes only bare http(s) origins in terminal.allowedOrigins", () => {
    expect(
      parse({
        terminal: { allowedOrigins: ["https://dash.example", "http://127.0.0.1:8080", "https://dash.example/"] },
      }),
    ).not.toThrow();
    for (const origin of [
      "javascript:alert(1)",
      "https://dash.example/path",
      "ftp://dash.example",
      "https://user@dash.example",
      "https://dash.example?x=1",
      "dash.example",
    ]) {
      expect(parse({ terminal: { allowedOrigins: [origin] } }), origin).toThrow(OptioConfigError);
    }
  });

  it("takes the restore caps, defaulting to the host's, and refuses ones that are not positive integers", () => {
    expect(parseAgentConfig(agentTaskConfigSchema, {})).toMatchObject({
      restoreMaxBytes: DEFAULT_RESTORE_MAX_BYTES,
      restoreMaxEntries: DEFAULT_RESTORE_MAX_ENTRIES,
    });
    expect(parseAgentConfig(agentTaskConfigSchema, { restoreMaxBytes: 1024, restoreMaxEntries: 10 })).toMatchObject({
      restoreMaxBytes: 1024,
      restoreMaxEntries: 10,
    });
    for (const bad of [{ restoreMaxBytes: 0 }, { restoreMaxEntries: -1 }, { restoreMaxBytes: 1.5 }])
      expect(parse(bad), JSON.stringify(bad)).toThrow(OptioConfigError);
  });

  it("refuses a processId too long for a path segment at create, with UnsafeProcessIdError", () => {
    const adapter = { configSchema: agentTaskConfigSchema } as unknown as Parameters<typeof createAgentTask>[0];
    expect(() => createAgentTask(adapter, { processId: "p".repeat(5000), name: "long", config: {} })).toThrow(
      UnsafeProcessIdError,
    );
  });

  it("refuses a private path pattern that leaves home/ at create, naming it, with ResumePathError", () => {
    const adapter = (privatePaths: string[]) =>
      ({
        configSchema: agentTaskConfigSchema,
        resume: { privatePaths, regenerablePaths: ["home/.cache"] },
      }) as unknown as Parameters<typeof createAgentTask>[0];
    const create = (privatePaths: string[]) => () =>
      createAgentTask(adapter(privatePaths), { processId: "p1", name: "x", config: {} });
    expect(create(["home/.a/**/*.jsonl", "!home/.a/log"])).not.toThrow();
    for (const bad of ["home/../../etc/*", "!project/**"]) {
      expect(create(["home/.a", bad])).toThrow(ResumePathError);
      expect(create(["home/.a", bad])).toThrow(JSON.stringify(bad));
    }
  });
});
