import { describe, expect, it } from "vitest";
import type { BrowserMode } from "../spec/browser-mode.js";
import { DEFAULT_ATTENTION_REASON, DEFAULT_ERROR_MESSAGE, parseLogLine } from "./parse-log-line.js";

const MODES: BrowserMode[] = ["ignore", "suppress", "redirect"];

describe("parseLogLine", () => {
  describe("STATUS", () => {
    it.each([
      ["STATUS: 40% reading the sources", 40, "reading the sources"],
      ["STATUS: 40 % reading", 40, "reading"],
      ["STATUS: 12.6% almost", 13, "almost"],
      ["STATUS: 150% overdone", 100, "overdone"],
      ["STATUS: -3% backwards", 0, "backwards"],
      ["STATUS: 75%", 75, ""],
      ["STATUS: compiling", null, "compiling"],
      ["STATUS: 3 files left", null, "3 files left"],
      ["STATUS:no space", null, "no space"],
      ["   \tSTATUS: 5% indented", 5, "indented"],
      ["STATUS: 20% crlf\r", 20, "crlf"],
    ])("%j", (line, percent, message) => {
      expect(parseLogLine(line, "ignore")).toEqual({ type: "status", percent, message });
    });

    it("an empty STATUS is invalid", () => {
      expect(parseLogLine("STATUS:", "ignore")).toMatchObject({ type: "invalid", keyword: "STATUS" });
      expect(parseLogLine("STATUS", "ignore")).toMatchObject({ type: "invalid", keyword: "STATUS" });
    });
  });

  it("DELIVERABLE gives the trimmed raw path", () => {
    expect(parseLogLine("DELIVERABLE:   deliverables/report.md  ", "ignore")).toEqual({
      type: "deliverable",
      path: "deliverables/report.md",
    });
    expect(parseLogLine("DELIVERABLE: ../../etc/passwd", "ignore")).toEqual({
      type: "deliverable",
      path: "../../etc/passwd",
    });
    expect(parseLogLine("DELIVERABLE:", "ignore")).toMatchObject({ type: "invalid", keyword: "DELIVERABLE" });
    expect(parseLogLine("DELIVERABLE:    ", "ignore")).toMatchObject({ type: "invalid", keyword: "DELIVERABLE" });
  });

  it("DONE with and without a summary", () => {
    expect(parseLogLine("DONE", "ignore")).toEqual({ type: "done" });
    expect(parseLogLine("DONE  ", "ignore")).toEqual({ type: "done" });
    expect(parseLogLine("DONE\r", "ignore")).toEqual({ type: "done" });
    expect(parseLogLine("DONE:", "ignore")).toEqual({ type: "done" });
    expect(parseLogLine("DONE: wrote the report", "ignore")).toEqual({ type: "done", summary: "wrote the report" });
  });

  it("ERROR with and without a message", () => {
    expect(parseLogLine("ERROR: exited 3", "ignore")).toEqual({ type: "error", message: "exited 3" });
    expect(parseLogLine("ERROR", "ignore")).toEqual({ type: "error", message: DEFAULT_ERROR_MESSAGE });
  });

  it("ATTENTION with and without a reason", () => {
    expect(parseLogLine("ATTENTION: please log in", "ignore")).toEqual({ type: "attention", reason: "please log in" });
    expect(parseLogLine("ATTENTION", "ignore")).toEqual({ type: "attention", reason: DEFAULT_ATTENTION_REASON });
  });

  describe("BROWSER", () => {
    it.each([
      ["BROWSER: https://example.com/login?a=1&b=2", "https://example.com/login?a=1&b=2"],
      ["BROWSER: 'https://example.com/a b'", "https://example.com/a b"],
      ['BROWSER: "http://127.0.0.1:8080/x"', "http://127.0.0.1:8080/x"],
      ["BROWSER: 'https://example.com/it's'", "https://example.com/it's"],
      ["BROWSER:   'https://example.com/'  \r", "https://example.com/"],
    ])("redirect mode accepts %j", (line, url) => {
      expect(parseLogLine(line, "redirect")).toEqual({ type: "browser", url });
    });

    it.each([
      "BROWSER: javascript:alert(1)",
      "BROWSER: 'javascript:alert(1)'",
      "BROWSER: file:///etc/passwd",
      "BROWSER: not a url",
      "BROWSER: ",
      "BROWSER",
      "BROWSER: ''",
      "BROWSER: 'https://example.com/\u0007'",
      "BROWSER: 'https://example.com/",
    ])("redirect mode rejects %j", (line) => {
      expect(parseLogLine(line, "redirect")).toMatchObject({ type: "invalid", keyword: "BROWSER" });
    });

    it.each(["ignore", "suppress"] as const)("is inert in %s mode", (mode) => {
      const event = parseLogLine("BROWSER: https://example.com/", mode);
      expect(event).toMatchObject({ type: "ignored", keyword: "BROWSER" });
      expect(event.type === "ignored" && event.reason).toContain(mode);
    });
  });

  describe("DOMAIN_MESSAGE", () => {
    it("parses a keyword and JSON data", () => {
      expect(parseLogLine('DOMAIN_MESSAGE: build.result {"ok":true,"n":[1,2]}', "ignore")).toEqual({
        type: "domain",
        keyword: "build.result",
        data: { ok: true, n: [1, 2] },
      });
      expect(parseLogLine("DOMAIN_MESSAGE: count-1_x 42", "ignore")).toEqual({
        type: "domain",
        keyword: "count-1_x",
        data: 42,
      });
    });

    it.each([
      "DOMAIN_MESSAGE:",
      "DOMAIN_MESSAGE: onlykeyword",
      "DOMAIN_MESSAGE: key {not json}",
      "DOMAIN_MESSAGE: key{}",
      "DOMAIN_MESSAGE: bad/key {}",
      "DOMAIN_MESSAGE: {}",
    ])("rejects %j", (line) => {
      expect(parseLogLine(line, "ignore")).toMatchObject({ type: "invalid", keyword: "DOMAIN_MESSAGE" });
    });
  });

  it("anything else is text, blank lines included", () => {
    for (const line of [
      "",
      "   ",
      "hello",
      "status: lower case",
      "STATUSES: no",
      "DONEX",
      "ERRORS: x",
      "xSTATUS: 5%",
      "Done",
      "ZEBRA",
    ]) {
      expect(parseLogLine(line, "redirect")).toEqual({ type: "text", text: line });
    }
    expect(parseLogLine("plain\r", "ignore")).toEqual({ type: "text", text: "plain" });
  });

  it("the mode changes only BROWSER lines", () => {
    for (const line of [
      "STATUS: 5% x",
      "DONE",
      "ERROR: e",
      "ATTENTION: a",
      "DELIVERABLE: deliverables/x",
      'DOMAIN_MESSAGE: k {"a":1}',
      "text",
    ]) {
      const events = MODES.map((mode) => parseLogLine(line, mode));
      expect(events[1]).toEqual(events[0]);
      expect(events[2]).toEqual(events[0]);
    }
  });

  it("handles a 10 MiB line in each shape without trouble", () => {
    const big = "9".repeat(10 * 1024 * 1024);
    expect(parseLogLine(`STATUS: ${big}`, "ignore")).toMatchObject({ type: "status", percent: null });
    expect(parseLogLine(`STATUS: ${"1".repeat(20)}.${big}%`, "ignore")).toMatchObject({
      type: "status",
      percent: null,
    });
    expect(parseLogLine(`DOMAIN_MESSAGE: ${"k".repeat(10 * 1024 * 1024)}`, "ignore")).toMatchObject({
      type: "invalid",
    });
    expect(parseLogLine(`DOMAIN_MESSAGE: k "${"a".repeat(10 * 1024 * 1024)}"`, "ignore")).toMatchObject({
      type: "domain",
    });
    expect(parseLogLine(`BROWSER: https://example.com/${big}`, "redirect")).toMatchObject({ type: "browser" });
    expect(parseLogLine(`DONE${" ".repeat(10 * 1024 * 1024)}x`, "ignore")).toMatchObject({ type: "text" });
    expect(parseLogLine(" ".repeat(10 * 1024 * 1024), "ignore")).toMatchObject({ type: "text" });
  });
});
