import type { ScriptedTurn } from "./anthropic-messages.js";

type OutputItem =
  | {
      type: "message";
      id: string;
      role: "assistant";
      status: "completed";
      content: Array<{ type: "output_text"; text: string; annotations: [] }>;
    }
  | { type: "function_call"; id: string; call_id: string; name: string; arguments: string; status: "completed" };

/**
 * The OpenAI Responses API response for a turn; `id` names it and its items.
 * A tool call is a `function_call` with its input as a JSON string. OpenAI
 * counts cached input inside `input_tokens`, so the scripted cache reads and
 * writes are added to it and the reads named again as `cached_tokens`.
 */
export function responseOf(turn: ScriptedTurn, id: string, model: string) {
  const output: OutputItem[] = [];
  if (turn.text !== undefined)
    output.push({
      type: "message",
      id: `msg_${id}`,
      role: "assistant",
      status: "completed",
      content: [{ type: "output_text", text: turn.text, annotations: [] }],
    });
  for (const [i, call] of (turn.toolCalls ?? []).entries())
    output.push({
      type: "function_call",
      id: `fc_${id}_${i}`,
      call_id: `call_${id}_${i}`,
      name: call.name,
      arguments: JSON.stringify(call.input),
      status: "completed",
    });
  const usage = turn.usage ?? {};
  const cached = usage.cacheReadInputTokens ?? 0;
  const input = (usage.inputTokens ?? 10) + cached + (usage.cacheCreationInputTokens ?? 0);
  const outputTokens = usage.outputTokens ?? 10;
  return {
    id: `resp_${id}`,
    object: "response" as const,
    created_at: Math.floor(Date.now() / 1000),
    status: "completed" as const,
    model,
    output,
    usage: {
      input_tokens: input,
      input_tokens_details: { cached_tokens: cached },
      output_tokens: outputTokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: input + outputTokens,
    },
  };
}

/** The same response as the Responses API streams it (server-sent events), each text as one delta. */
export function responseEventsOf(response: ReturnType<typeof responseOf>): string {
  let sequence = 0;
  const event = (type: string, data: Record<string, unknown>) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`;
  const { output, usage, ...head } = response;
  const parts = [
    event("response.created", { response: { ...head, status: "in_progress", output: [], usage: null } }),
    event("response.in_progress", { response: { ...head, status: "in_progress", output: [], usage: null } }),
  ];
  output.forEach((item, output_index) => {
    if (item.type === "message") {
      const [part] = item.content;
      parts.push(
        event("response.output_item.added", { output_index, item: { ...item, status: "in_progress", content: [] } }),
      );
      parts.push(
        event("response.content_part.added", {
          item_id: item.id,
          output_index,
          content_index: 0,
          part: { ...part, text: "" },
        }),
      );
      parts.push(
        event("response.output_text.delta", { item_id: item.id, output_index, content_index: 0, delta: part!.text }),
      );
      parts.push(
        event("response.output_text.done", { item_id: item.id, output_index, content_index: 0, text: part!.text }),
      );
      parts.push(event("response.content_part.done", { item_id: item.id, output_index, content_index: 0, part }));
    } else {
      parts.push(
        event("response.output_item.added", { output_index, item: { ...item, status: "in_progress", arguments: "" } }),
      );
      parts.push(
        event("response.function_call_arguments.delta", { item_id: item.id, output_index, delta: item.arguments }),
      );
      parts.push(
        event("response.function_call_arguments.done", { item_id: item.id, output_index, arguments: item.arguments }),
      );
    }
    parts.push(event("response.output_item.done", { output_index, item }));
  });
  parts.push(event("response.completed", { response }));
  return parts.join("");
}
