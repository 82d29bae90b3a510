import { describe, expect, it } from "vitest";
import { composeInstructions, TASK_HEADING } from "./instructions.js";
import { protocolDocumentation } from "./protocol/documentation.js";

const CONSUMER = "Summarise the repository in deliverables/summary.md.\n\n### Details\nKeep it short.";

describe("composeInstructions", () => {
  it.each(["ignore", "suppress", "redirect"] as const)(
    "holds the %s documentation, the resume section and the consumer text in order",
    (mode) => {
      const text = composeInstructions({
        mode,
        consumerInstructions: CONSUMER,
        resume: { excludes: ["node_modules", "*.log", ".cache/*"] },
      });
      const docAt = text.indexOf(protocolDocumentation(mode).trimEnd());
      const resumeAt = text.indexOf("## If this task is stopped and resumed");
      const taskAt = text.indexOf(`${TASK_HEADING}\n\n${CONSUMER}`);
      expect(docAt).toBe(0);
      expect(resumeAt).toBeGreaterThan(docAt);
      expect(taskAt).toBeGreaterThan(resumeAt);
      for (const pattern of ["- `node_modules`", "- `*.log`", "- `.cache/*`"]) expect(text).toContain(pattern);
      expect(text).toContain("resume.log");
      expect(text).toContain("REFRESHED:<files>");
      expect(text).toMatch(/running processes/);
      expect(text).toMatch(/outside the working directory/);
      expect(text).toMatch(/login and this conversation/);
      expect(text.endsWith("\n")).toBe(true);
    },
  );

  it("leaves the resume section out when resume is null or missing", () => {
    for (const resume of [null, undefined]) {
      const text = composeInstructions({ mode: "redirect", consumerInstructions: CONSUMER, resume });
      expect(text).toContain(CONSUMER);
      expect(text).toContain(protocolDocumentation("redirect").trimEnd());
      expect(text).not.toContain("resume.log");
      expect(text).not.toContain("stopped and resumed");
    }
  });

  it("adds the adapter's private note and says when nothing is excluded", () => {
    const text = composeInstructions({
      mode: "ignore",
      consumerInstructions: "x",
      resume: { excludes: [], privateNote: "Your transcripts under home/.claude are kept, encrypted." },
    });
    expect(text).toContain("Your transcripts under home/.claude are kept, encrypted.");
    expect(text).toMatch(/no patterns: everything in the working directory is kept/);
  });

  it("shows a pattern holding a backtick verbatim", () => {
    const text = composeInstructions({ mode: "ignore", consumerInstructions: "x", resume: { excludes: ["odd`name"] } });
    expect(text).toContain("- `` odd`name ``");
  });

  it("marks empty consumer instructions instead of leaving a bare heading", () => {
    expect(composeInstructions({ mode: "ignore", consumerInstructions: "  \n" })).toContain(
      `${TASK_HEADING}\n\n(No instructions were given.)`,
    );
  });
});
