import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { TaskPayloadError, UnknownTaskKindError } from "./errors.js";
import { defineTaskKind, kindNamed, kindsByName, parsePayload } from "./task-kind.js";

const task = (processId: string) => ({ processId, name: processId, run: async () => ({ status: "done" as const }) });
const review = defineTaskKind(
  "review",
  z.object({ pr: z.string(), files: z.optional(z.array(z.string())) }),
  (_payload, { processId }) => task(processId),
);

describe("task kinds", () => {
  it("refuses a payload naming the bad field, nested ones by their path", () => {
    expect(parsePayload(review, { pr: "#1" })).toEqual({ pr: "#1" });
    expect(() => parsePayload(review, { pr: 1 })).toThrow(/^review payload\.pr: /);
    expect(() => parsePayload(review, { pr: "#1", files: ["a", 2] })).toThrow(/^review payload\.files\.1: /);
    const error = (() => {
      try {
        parsePayload(review, "not an object");
      } catch (caught) {
        return caught;
      }
    })();
    expect(TaskPayloadError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/^review payload: /);
  });

  it("names kinds safely, once each, and says which are known when one is missing", () => {
    expect(() => defineTaskKind("two words", z.object({}), (_p, { processId }) => task(processId))).toThrow(
      UnknownTaskKindError,
    );
    expect(() => kindsByName([review, review])).toThrow(/two task kinds are named "review"/);
    const kinds = kindsByName([review]);
    expect(kindNamed(kinds, "review")).toBe(review);
    expect(() => kindNamed(kinds, "deploy")).toThrow(/no task kind named "deploy" is registered \(known: review\)/);
  });
});
