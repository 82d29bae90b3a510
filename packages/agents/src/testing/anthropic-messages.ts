/** A tool call the scripted model makes: the agent runs the tool and sends its result back. */
export interface ScriptedToolCall {
  /** The agent's tool name, e.g. `Bash` or `Write` for claude, `exec_command` for Codex. */
  name: string;
  input: Record<string, unknown>;
}

/** The token counts a scripted answer reports. */
export interface ScriptedUsage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadInputTokens?: number;
  cacheCreationInputTokens?: number;
}

/** One answer of the scripted model: text and/or tool calls, in that order. */
export interface ScriptedTurn {
  text?: string;
  toolCalls?: ScriptedToolCall[];
  usage?: ScriptedUsage;
}

type ContentBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

/** The Anthropic Messages API message for a turn; `id` names it and its tool calls. */
export function messageOf(turn: ScriptedTurn, id: string, model: string) {
  const content: ContentBlock[] = [];
  if (turn.text !== undefined) content.push({ type: "text", text: turn.text });
  for (const [i, call] of (turn.toolCalls ?? []).entries())
    content.push({ type: "tool_use", id: `toolu_${id}_${i}`, name: call.name, input: call.input });
  const usage = turn.usage ?? {};
  return {
    id: `msg_${id}`,
    type: "message" as const,
    role: "assistant" as const,
    model,
    content,
    stop_reason: (turn.toolCalls?.length ?? 0) > 0 ? "tool_use" : "end_turn",
    stop_sequence: null,
    usage: {
      input_tokens: usage.inputTokens ?? 10,
      output_tokens: usage.outputTokens ?? 10,
      cache_read_input_tokens: usage.cacheReadInputTokens ?? 0,
      cache_creation_input_tokens: usage.cacheCreationInputTokens ?? 0,
    },
  };
}

function event(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

/** The same message as the Messages API streams it (server-sent events), tool inputs as one JSON delta each. */
export function streamEventsOf(message: ReturnType<typeof messageOf>): string {
  const { content, usage, stop_reason, ...head } = message;
  // The whole usage already at the start as well as at the end: an agent that records either one records the scripted numbers.
  const parts = [
    event("message_start", { message: { ...head, content: [], stop_reason: null, usage } }),
    event("ping", {}),
  ];
  content.forEach((block, index) => {
    if (block.type === "text") {
      parts.push(event("content_block_start", { index, content_block: { type: "text", text: "" } }));
      parts.push(event("content_block_delta", { index, delta: { type: "text_delta", text: block.text } }));
    } else {
      parts.push(event("content_block_start", { index, content_block: { ...block, input: {} } }));
      parts.push(
        event("content_block_delta", {
          index,
          delta: { type: "input_json_delta", partial_json: JSON.stringify(block.input) },
        }),
      );
    }
    parts.push(event("content_block_stop", { index }));
  });
  parts.push(event("message_delta", { delta: { stop_reason, stop_sequence: null }, usage }));
  parts.push(event("message_stop", {}));
  return parts.join("");
}
