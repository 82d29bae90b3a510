import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { openCodeStateSource, STATE_PLUGIN_SOURCE } from "./state-plugin.js";

type EventHook = { event: (input: { event: { type: string; properties: Record<string, unknown> } }) => Promise<void> };

/** Loads the plugin source as opencode does (an ES module whose exports are plugin functions) and feeds it events. */
async function runPlugin(events: Array<{ type: string; properties: Record<string, unknown> }>): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "optio-oc-plugin-"));
  const file = join(dir, "state.log");
  const saved = process.env.OPTIO_AGENT_STATE_FILE;
  try {
    process.env.OPTIO_AGENT_STATE_FILE = file;
    writeFileSync(join(dir, "optio-state.mjs"), STATE_PLUGIN_SOURCE);
    const module = (await import(pathToFileURL(join(dir, "optio-state.mjs")).href)) as Record<
      string,
      () => Promise<EventHook>
    >;
    const hooks = await Object.values(module)[0]!();
    for (const event of events) await hooks.event({ event });
    return readFileSync(file, "utf8").split("\n").filter(Boolean);
  } finally {
    if (saved === undefined) delete process.env.OPTIO_AGENT_STATE_FILE;
    else process.env.OPTIO_AGENT_STATE_FILE = saved;
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("opencode's state plugin", () => {
  it("writes a line for the events that say what the agent does, and only for the main session's turns", async () => {
    const lines = await runPlugin([
      { type: "session.status", properties: { sessionID: "s", status: { type: "busy" } } },
      { type: "message.part.delta", properties: { sessionID: "s", delta: "I stop" } },
      {
        type: "permission.asked",
        properties: {
          sessionID: "s",
          permission: "bash",
          patterns: ["touch proof.txt"],
          metadata: { command: "touch proof.txt" },
        },
      },
      { type: "permission.replied", properties: { sessionID: "s", requestID: "p", reply: "once" } },
      { type: "session.created", properties: { sessionID: "c", info: { id: "c", parentID: "s" } } },
      { type: "session.status", properties: { sessionID: "c", status: { type: "busy" } } },
      { type: "session.idle", properties: { sessionID: "c" } },
      {
        type: "message.part.updated",
        properties: { part: { type: "text", sessionID: "s", text: "I stop here.", time: { start: 1, end: 2 } } },
      },
      { type: "session.status", properties: { sessionID: "s", status: { type: "idle" } } },
      { type: "session.idle", properties: { sessionID: "s" } },
      { type: "question.asked", properties: { sessionID: "s", questions: [{ question: "Which file?" }] } },
    ]);
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      { type: "session.status", status: "busy" },
      { type: "permission.asked", permission: "bash", detail: "touch proof.txt" },
      { type: "permission.replied", reply: "once" },
      { type: "session.status", status: "idle" },
      { type: "session.idle", text: "I stop here." },
      { type: "question.asked", question: "Which file?" },
    ]);
    expect(lines.map((line) => openCodeStateSource.parse(line))).toEqual([
      { state: "working" },
      { state: "waiting-permission", message: "bash: touch proof.txt" },
      { state: "working" },
      null,
      { state: "idle", message: "I stop here." },
      { state: "waiting-input", message: "Which file?" },
    ]);
  });

  it("reads a refusal as no change (the turn's end follows) and ignores lines it cannot read", () => {
    const parse = (line: string) => openCodeStateSource.parse(line);
    expect(parse(JSON.stringify({ type: "permission.replied", reply: "reject" }))).toBeNull();
    expect(parse(JSON.stringify({ type: "permission.updated", permission: "edit" }))).toEqual({
      state: "waiting-permission",
      message: "edit",
    });
    expect(parse(JSON.stringify({ type: "session.idle" }))).toEqual({ state: "idle" });
    expect(parse("waiting-permission forged")).toBeNull();
    expect(parse("[1]")).toBeNull();
    expect(parse(JSON.stringify({ type: "session.status", status: "retry" }))).toBeNull();
  });
});
