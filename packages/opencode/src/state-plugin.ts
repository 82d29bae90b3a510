import { posix } from "node:path";
import { AGENT_STATE_FILE_ENV, type AdapterContext, type AgentStateSource, type HookStateChange } from "@optio/agents";
import { OPENCODE_CONFIG_DIR } from "./plant.js";

/** Where the plugin is planted: opencode loads every `plugin/*.{js,ts}` of its global config dir (under the task's HOME). */
export const STATE_PLUGIN_PATH = `${OPENCODE_CONFIG_DIR}/plugin/optio-state.js`;

const MESSAGE_CHARS = 200;

/**
 * The plugin opencode loads: its `event` hook sees every bus event; the ones
 * that say what the agent does become one JSON line each, appended in one
 * write to `$OPTIO_AGENT_STATE_FILE`. Seen with opencode 1.18.34:
 * `session.status` (`busy`), `permission.asked` as the prompt is drawn (older
 * versions: `permission.updated`), `permission.replied` (`once`, `always`,
 * `reject`), `session.idle` when a turn ends, `question.asked`. `session.idle`
 * carries no text, so the plugin keeps the last finished text part of the
 * turn. Sub-agent sessions (with a parent) go busy and idle inside the main
 * turn, so only their permission prompts and questions count.
 */
export const STATE_PLUGIN_SOURCE = `import { appendFileSync } from "node:fs";

const FILE = process.env.${AGENT_STATE_FILE_ENV};
const children = new Set();
const lastText = new Map();
const clip = (text) => (typeof text === "string" ? text.slice(0, ${MESSAGE_CHARS * 2}) : undefined);

function lineFor(event) {
  const p = event.properties ?? {};
  switch (event.type) {
    case "session.created":
    case "session.updated":
      if (p.info?.parentID) children.add(p.info.id);
      return null;
    case "message.part.updated":
      if (p.part?.type === "text" && p.part.time?.end && !p.part.synthetic) lastText.set(p.part.sessionID, p.part.text);
      return null;
    case "session.status":
      return children.has(p.sessionID) ? null : { type: event.type, status: p.status?.type };
    case "session.idle": {
      if (children.has(p.sessionID)) return null;
      const text = lastText.get(p.sessionID);
      lastText.delete(p.sessionID);
      return { type: event.type, text: clip(text) };
    }
    case "permission.asked":
    case "permission.updated": {
      const detail = p.metadata?.command ?? (Array.isArray(p.patterns) ? p.patterns.join(" ") : undefined) ?? p.title;
      return { type: event.type, permission: p.permission ?? p.type, detail: clip(detail) };
    }
    case "permission.replied":
      return { type: event.type, reply: p.reply ?? p.response };
    case "question.asked":
      return { type: event.type, question: clip(p.questions?.[0]?.question) };
    default:
      return null;
  }
}

export const OptioState = async () => ({
  event: async ({ event }) => {
    if (!FILE) return;
    const line = lineFor(event);
    if (line) appendFileSync(FILE, JSON.stringify(line) + "\\n");
  },
});
`;

/** Plants the plugin; written whole on every launch, so a resumed task gets this version's. */
export async function plantStatePlugin(ctx: AdapterContext): Promise<void> {
  await ctx.host.mkdir(posix.join(ctx.home, OPENCODE_CONFIG_DIR, "plugin"), { mode: 0o700 });
  await ctx.host.writeText(posix.join(ctx.home, STATE_PLUGIN_PATH), STATE_PLUGIN_SOURCE, { mode: 0o600 });
}

type Json = Record<string, unknown>;

const text = (value: unknown): string | undefined => {
  if (typeof value !== "string") return undefined;
  const line = value.replace(/\s+/g, " ").trim();
  if (!line) return undefined;
  return line.length > MESSAGE_CHARS ? `${line.slice(0, MESSAGE_CHARS - 1)}…` : line;
};

const withMessage = (state: HookStateChange["state"], message: string | undefined): HookStateChange =>
  message ? { state, message } : { state };

function changeFor(line: Json): HookStateChange | null {
  switch (line.type) {
    case "session.status":
      return line.status === "busy" ? { state: "working" } : null;
    case "session.idle":
      return withMessage("idle", text(line.text));
    case "permission.asked":
    case "permission.updated": {
      const permission = text(line.permission);
      const detail = text(line.detail);
      return withMessage(
        "waiting-permission",
        permission && detail ? `${permission}: ${detail}` : (permission ?? detail),
      );
    }
    case "permission.replied":
      // A refusal ends the turn: session.idle follows.
      return line.reply === "reject" ? null : { state: "working" };
    case "question.asked":
      return withMessage("waiting-input", text(line.question));
    default:
      return null;
  }
}

/** Reads the plugin's lines. */
export const openCodeStateSource: AgentStateSource = {
  kind: "hooks",
  parse(line) {
    try {
      const parsed: unknown = JSON.parse(line);
      return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? changeFor(parsed as Json) : null;
    } catch {
      return null;
    }
  },
};
