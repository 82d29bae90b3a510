import { describe, expect, it } from "vitest";
import { EventPrinter, jsonLine, outcomeJson } from "./event-printer.js";

function sink(isTTY = false) {
  let text = "";
  return {
    isTTY,
    columns: 100,
    write(chunk: string) {
      text += chunk;
      return true;
    },
    get text() {
      return text;
    },
  };
}

describe("EventPrinter", () => {
  it("prints setup progress as lines off a TTY, then STATUS lines once the terminal is up", () => {
    const out = sink();
    const err = sink();
    const p = new EventPrinter(out, err, false);
    p.event({ type: "progress", percent: 10, message: "installing 1.0 MB / 10.0 MB" });
    p.event({ type: "widget", widget: { kind: "iframe", url: "http://127.0.0.1:1/t" } });
    p.event({ type: "progress", percent: 42, message: "halfway" });
    p.event({ type: "progress", percent: null, message: "thinking" });
    p.event({ type: "report", level: "warn", message: "careful" });
    p.event({ type: "report", level: "info", message: "fyi" });
    expect(out.text.split("\n")).toEqual([
      "SETUP  [ 10%] installing 1.0 MB / 10.0 MB",
      "Terminal: http://127.0.0.1:1/t",
      "STATUS [ 42%] halfway",
      "STATUS [ -- ] thinking",
      "info: fyi",
      "",
    ]);
    expect(err.text).toBe("warning: careful\n");
  });

  it("redraws one bar on a TTY and ends it before the next line", () => {
    const out = sink(true);
    const p = new EventPrinter(out, sink(), false);
    p.event({ type: "progress", percent: 0, message: "0 B / 2.0 MB" });
    p.event({ type: "progress", percent: 50, message: "1.0 MB / 2.0 MB" });
    p.event({ type: "widget", widget: { kind: "iframe", url: "http://x/" } });
    expect(out.text).toBe(
      `\r\x1b[2K[------------------------]   0% 0 B / 2.0 MB\r\x1b[2K[############------------]  50% 1.0 MB / 2.0 MB\nTerminal: http://x/\n`,
    );
  });

  it("prints the agent's state and what needs a person", () => {
    const out = sink();
    const p = new EventPrinter(out, sink(), false);
    p.event({ type: "agent-state", state: "working", timestamp: 1 });
    p.event({ type: "agent-state", state: "waiting-permission", timestamp: 2, message: "Bash: touch x" });
    p.event({ type: "attention", reason: "Claude Code asks for permission: Bash: touch x" });
    expect(out.text).toBe(
      "STATE working\nSTATE waiting-permission: Bash: touch x\nATTENTION: Claude Code asks for permission: Bash: touch x\n",
    );
  });

  it("carries agent-state and attention events in JSON mode", () => {
    const out = sink();
    const p = new EventPrinter(out, sink(), true);
    p.event({ type: "agent-state", state: "idle", timestamp: 5, message: "I stop here." });
    p.event({ type: "attention", reason: "waits" });
    expect(out.text).toBe(
      `{"type":"agent-state","state":"idle","timestamp":5,"message":"I stop here."}\n{"type":"attention","reason":"waits"}\n`,
    );
  });

  it("prints JSON lines only on stdout in JSON mode", () => {
    const out = sink(true);
    const err = sink();
    const p = new EventPrinter(out, err, true);
    p.event({ type: "progress", percent: 5, message: "x" });
    p.event({ type: "outcome", outcome: { status: "done" } });
    p.say("for people");
    expect(out.text).toBe(`{"type":"progress","percent":5,"message":"x"}\n`);
    expect(err.text).toBe("for people\n");
  });
});

describe("jsonLine", () => {
  it("survives bigints, cycles and errors", () => {
    const cyclic: Record<string, unknown> = { n: 1n };
    cyclic.self = cyclic;
    expect(JSON.parse(jsonLine(cyclic))).toEqual({ n: "1", self: "[circular]" });
    const failed = outcomeJson({
      status: "failed",
      message: "m",
      error: Object.assign(new Error("boom"), { code: "x" }),
    });
    expect(JSON.parse(jsonLine(failed))).toEqual({
      status: "failed",
      message: "m",
      error: { name: "Error", message: "boom", code: "x" },
    });
  });
});
