import { describe, expect, it } from "vitest";
import { columnList, columnOf, recordOf, SEED_FIELDS } from "./record-columns.js";

describe("record columns", () => {
  it("stores each field in its snake_case column and reads a record back from a row", () => {
    expect(columnOf("sourceProcessId")).toBe("source_process_id");
    expect(columnList(SEED_FIELDS)).toBe("id, agent, created_at, blob_id, encrypted, source_process_id");
    const row = {
      id: "s1",
      agent: "codex",
      created_at: "2026-12-07T00:00:00.000Z",
      blob_id: "b1",
      encrypted: true,
      source_process_id: "p1",
      created_ms: "1",
    };
    expect(recordOf(SEED_FIELDS, row)).toEqual({
      id: "s1",
      agent: "codex",
      createdAt: "2026-12-07T00:00:00.000Z",
      blobId: "b1",
      encrypted: true,
      sourceProcessId: "p1",
    });
  });
});
