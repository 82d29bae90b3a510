import { describe, expect, it } from "vitest";
import type { BrowserMode } from "../spec/browser-mode.js";
import { documentedKeywords, protocolDocumentation } from "./documentation.js";
import { parseLogLine } from "./parse-log-line.js";

const ALWAYS = ["STATUS", "DELIVERABLE", "DONE", "ERROR", "ATTENTION", "DOMAIN_MESSAGE"];

/** The lines the documentation's examples would append, read back from `echo '…' >> optio.log`. */
function exampleLines(doc: string): string[] {
  return [...doc.matchAll(/^echo '([^']*)' >> optio\.log$/gm)].map((m) => m[1] ?? "");
}

describe("protocolDocumentation", () => {
  it.each(["ignore", "suppress", "redirect"] as const)(
    "%s mode documents each of its keywords with syntax and example",
    (mode) => {
      const doc = protocolDocumentation(mode);
      for (const keyword of ALWAYS) {
        expect(doc).toContain(`#### ${keyword}\n`);
        expect(doc).toMatch(new RegExp(`Syntax: \`${keyword}`));
        expect(doc).toMatch(new RegExp(`^echo '${keyword}`, "m"));
      }
      expect(doc).toContain("optio.log");
      expect(doc).toContain("deliverables/");
      expect(doc).toMatch(/newline/);
      expect(doc).toMatch(/never edit, truncate or rewrite/);
      expect(doc).toMatch(/DONE or ERROR ends the task/);
    },
  );

  it("documents BROWSER only in redirect mode", () => {
    expect(protocolDocumentation("redirect")).toContain("#### BROWSER\n");
    expect(protocolDocumentation("redirect")).toMatch(/^echo 'BROWSER: https:/m);
    for (const mode of ["ignore", "suppress"] as const) {
      expect(protocolDocumentation(mode)).not.toContain("BROWSER");
    }
  });

  it("says browsers are disabled in suppress mode only", () => {
    expect(protocolDocumentation("suppress")).toMatch(/browser is disabled/);
    expect(protocolDocumentation("ignore")).not.toMatch(/disabled/);
    expect(protocolDocumentation("redirect")).not.toMatch(/disabled/);
  });

  it("documentedKeywords lists exactly the documented sections", () => {
    const modes: BrowserMode[] = ["ignore", "suppress", "redirect"];
    for (const mode of modes) {
      const sections = [...protocolDocumentation(mode).matchAll(/^#### (\S+)$/gm)].map((m) => m[1]);
      expect(sections).toEqual(documentedKeywords(mode));
    }
    expect(documentedKeywords("ignore").sort()).toEqual([...ALWAYS].sort());
    expect(documentedKeywords("redirect").sort()).toEqual([...ALWAYS, "BROWSER"].sort());
  });

  it.each(["ignore", "suppress", "redirect"] as const)("every example in %s mode parses as its keyword", (mode) => {
    const lines = exampleLines(protocolDocumentation(mode));
    expect(lines.length).toBe(documentedKeywords(mode).length + 1);
    for (const line of lines) {
      const event = parseLogLine(line, mode);
      expect(["status", "deliverable", "done", "error", "browser", "attention", "domain"]).toContain(event.type);
    }
  });
});
