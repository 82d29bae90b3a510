import { AGENT_STATE_FILE_ENV, type AgentStateSource, type HookStateChange } from "@optio/agents";
import { OptioConfigError } from "@optio/host";

type Json = Record<string, unknown>;

/**
 * The hook events optio listens to. Seen with claude 2.1.332 and 2.1.336: a
 * tool waiting for permission runs `PermissionRequest` as its menu is drawn
 * (`Notification` with `permission_prompt` does not come then); `Stop` carries
 * the turn's `last_assistant_message`; refusing a prompt runs no hook.
 */
export const STATE_HOOK_EVENTS = [
  "UserPromptSubmit",
  "PreToolUse",
  "PostToolUse",
  "PermissionRequest",
  "Notification",
  "Stop",
  "SessionEnd",
] as const;

/** Most of a hook's JSON input kept: the fields optio reads come before the tool's input, which may be a whole file. */
const HOOK_INPUT_BYTES = 2048;
const MESSAGE_CHARS = 200;

/**
 * One line per hook run, `<event> <its JSON input, cut>`, appended in one
 * write; the hook prints nothing (claude would read output as a decision) and
 * always succeeds, also where the variable is unset (claude run by hand).
 */
export function stateHookCommand(event: string): string {
  const file = `"$${AGENT_STATE_FILE_ENV}"`;
  // The input is read to its end on every path: a hook that leaves it unread can fail claude's write with EPIPE.
  return `if [ -n ${file} ]; then l=$({ head -c ${HOOK_INPUT_BYTES}; cat >/dev/null; } | tr -d '\\n\\r'); printf '%s %s\\n' ${event} "$l" >> ${file}; else cat >/dev/null; fi; exit 0`;
}

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * `settings.hooks` with optio's hooks added after the consumer's own, which
 * all stay; a hook optio planted before (a seed's settings) is not added twice.
 */
export function withStateHooks(settings: Json): Json {
  const existing = settings.hooks ?? {};
  if (!isObject(existing)) throw new OptioConfigError("claudeConfig.hooks: must be an object of hook event names");
  const hooks: Json = { ...existing };
  for (const event of STATE_HOOK_EVENTS) {
    const entries = hooks[event] ?? [];
    if (!Array.isArray(entries)) throw new OptioConfigError(`claudeConfig.hooks.${event}: must be an array`);
    const command = stateHookCommand(event);
    if (JSON.stringify(entries).includes(JSON.stringify(command))) continue;
    hooks[event] = [...entries, { matcher: "", hooks: [{ type: "command", command }] }];
  }
  return { ...settings, hooks };
}

function clip(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > MESSAGE_CHARS ? `${line.slice(0, MESSAGE_CHARS - 1)}…` : line;
}

/** A string field of the hook input, from the parsed JSON or, when the input was cut, from its text. */
function field(input: Json | null, raw: string, name: string): string | undefined {
  if (input) return typeof input[name] === "string" ? input[name] : undefined;
  const match = new RegExp(`"${name}":"((?:[^"\\\\]|\\\\.)*)"`).exec(raw);
  if (!match) return undefined;
  try {
    return JSON.parse(`"${match[1]}"`) as string;
  } catch {
    return undefined;
  }
}

function toolWaiting(input: Json | null, raw: string): string | undefined {
  const tool = field(input, raw, "tool_name");
  const toolInput = input && isObject(input.tool_input) ? input.tool_input : null;
  const detail = toolInput
    ? typeof toolInput.command === "string"
      ? toolInput.command
      : typeof toolInput.file_path === "string"
        ? toolInput.file_path
        : undefined
    : field(null, raw, "command");
  return tool && detail ? `${tool}: ${clip(detail)}` : tool;
}

function changeFor(event: string, input: Json | null, raw: string): HookStateChange | null {
  const message = (text: string | undefined) => (text ? { message: clip(text) } : {});
  switch (event) {
    case "UserPromptSubmit":
    case "PostToolUse":
      return { state: "working" };
    case "PreToolUse":
      return { state: "working", ...message(field(input, raw, "tool_name")) };
    case "PermissionRequest":
      return { state: "waiting-permission", ...message(toolWaiting(input, raw)) };
    case "Notification": {
      const type = field(input, raw, "notification_type");
      const text = field(input, raw, "message");
      if (type === "permission_prompt") return { state: "waiting-permission", ...message(text) };
      if (type === "idle_prompt" || type === "elicitation_dialog") return { state: "waiting-input", ...message(text) };
      return null;
    }
    case "Stop":
      return { state: "idle", ...message(field(input, raw, "last_assistant_message")) };
    case "SessionEnd":
      return { state: "exited", ...message(field(input, raw, "reason")) };
    default:
      return null;
  }
}

/** Reads the lines of `stateHookCommand`. */
export const claudeStateSource: AgentStateSource = {
  kind: "hooks",
  parse(line) {
    const space = line.indexOf(" ");
    const event = space < 0 ? line : line.slice(0, space);
    const raw = space < 0 ? "" : line.slice(space + 1);
    let input: Json | null = null;
    try {
      const parsed: unknown = JSON.parse(raw);
      input = isObject(parsed) ? parsed : null;
    } catch {
      // Cut at HOOK_INPUT_BYTES: the fields are read from the text.
    }
    return changeFor(event, input, raw);
  },
};
