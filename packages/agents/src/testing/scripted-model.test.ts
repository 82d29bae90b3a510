import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { isConversationRequest, startScriptedModel, type ScriptedModel } from "./scripted-model.js";

let model: ScriptedModel | undefined;
afterEach(async () => {
  await model?.close();
  model = undefined;
});

const tools = [{ name: "Bash", description: "runs a command", input_schema: { type: "object" } }];

function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${model!.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "k" },
    body: JSON.stringify(body),
  });
}

/** The server-sent events of a streamed answer, as [event, data] pairs. */
async function events(response: Response): Promise<Array<[string, Record<string, unknown>]>> {
  const text = await response.text();
  return text
    .split("\n\n")
    .filter(Boolean)
    .map((chunk) => {
      const [eventLine, dataLine] = chunk.split("\n");
      return [
        eventLine!.replace(/^event: /, ""),
        JSON.parse(dataLine!.replace(/^data: /, "")) as Record<string, unknown>,
      ];
    });
}

describe("startScriptedModel", () => {
  it("listens on 127.0.0.1 and answers the reachability probe", async () => {
    model = await startScriptedModel({ turns: [] });
    expect(model.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const hello = await fetch(`${model.url}/api/hello`, { method: "HEAD" });
    expect(hello.status).toBe(200);
    expect(model.requests).toMatchObject([{ method: "HEAD", path: "/api/hello", turn: null }]);
  });

  it("answers conversation requests with the scripted turns in order, as plain JSON", async () => {
    model = await startScriptedModel({
      turns: [
        {
          text: "Writing the file.",
          toolCalls: [{ name: "Write", input: { file_path: "a.txt", content: "hi" } }],
          usage: { inputTokens: 120, outputTokens: 30 },
        },
        { text: "Done." },
      ],
    });
    const first = await (
      await post("/v1/messages", { model: "m1", messages: [{ role: "user", content: "go" }], tools })
    ).json();
    expect(first).toMatchObject({
      type: "message",
      role: "assistant",
      model: "m1",
      stop_reason: "tool_use",
      usage: { input_tokens: 120, output_tokens: 30 },
      content: [
        { type: "text", text: "Writing the file." },
        { type: "tool_use", name: "Write", input: { file_path: "a.txt", content: "hi" } },
      ],
    });
    expect(first.content[1].id).toMatch(/^toolu_/);
    const second = await (await post("/v1/messages", { model: "m1", messages: [], tools })).json();
    expect(second).toMatchObject({ stop_reason: "end_turn", content: [{ type: "text", text: "Done." }] });
    const past = await (await post("/v1/messages", { model: "m1", messages: [], tools })).json();
    expect(past.stop_reason).toBe("end_turn");
    expect(model.turnsUsed).toBe(2);
    expect(model.requests.map((r) => r.turn)).toEqual([0, 1, null]);
  });

  it("streams a turn as the Messages API's server-sent events", async () => {
    model = await startScriptedModel({
      turns: [{ text: "Running it.", toolCalls: [{ name: "Bash", input: { command: "echo hi" } }] }],
    });
    const response = await post("/v1/messages?beta=true", { model: "m2", stream: true, messages: [], tools });
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const seen = await events(response);
    expect(seen.map(([name]) => name)).toEqual([
      "message_start",
      "ping",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    for (const [name, data] of seen) expect(data.type).toBe(name);
    expect(seen[3]![1]).toMatchObject({ index: 0, delta: { type: "text_delta", text: "Running it." } });
    expect(seen[5]![1]).toMatchObject({ index: 1, content_block: { type: "tool_use", name: "Bash", input: {} } });
    expect(JSON.parse((seen[6]![1].delta as { partial_json: string }).partial_json)).toEqual({ command: "echo hi" });
    expect(seen[8]![1]).toMatchObject({ delta: { stop_reason: "tool_use" } });
    expect(model.requests[0]).toMatchObject({
      method: "POST",
      path: "/v1/messages?beta=true",
      turn: 0,
      body: { model: "m2", stream: true },
    });
  });

  it("streams the scripted usage in both message_start and message_delta", async () => {
    const usage = {
      input_tokens: 700,
      output_tokens: 40,
      cache_read_input_tokens: 300,
      cache_creation_input_tokens: 20,
    };
    model = await startScriptedModel({
      turns: [
        {
          text: "x",
          usage: { inputTokens: 700, outputTokens: 40, cacheReadInputTokens: 300, cacheCreationInputTokens: 20 },
        },
      ],
    });
    const seen = await events(await post("/v1/messages", { model: "m", stream: true, messages: [], tools }));
    expect(seen.find(([name]) => name === "message_start")![1]).toMatchObject({ message: { usage } });
    expect(seen.find(([name]) => name === "message_delta")![1]).toMatchObject({ usage });
  });

  it("streams the same script as the OpenAI Responses API's server-sent events on /v1/responses", async () => {
    model = await startScriptedModel({
      turns: [
        {
          text: "Running it.",
          toolCalls: [{ name: "exec_command", input: { cmd: "echo hi" } }],
          usage: { inputTokens: 700, outputTokens: 40, cacheReadInputTokens: 300, cacheCreationInputTokens: 20 },
        },
      ],
    });
    const openaiTools = [{ type: "function", name: "exec_command", parameters: { type: "object" } }];
    const response = await post("/v1/responses", { model: "m3", stream: true, input: [], tools: openaiTools });
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const seen = await events(response);
    expect(seen.map(([name]) => name)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ]);
    for (const [name, data] of seen) expect(data.type).toBe(name);
    expect(seen.map(([, data]) => data.sequence_number)).toEqual(seen.map((_, i) => i));
    expect(seen[4]![1]).toMatchObject({ output_index: 0, delta: "Running it." });
    expect(seen[7]![1]).toMatchObject({
      item: { type: "message", role: "assistant", content: [{ type: "output_text", text: "Running it." }] },
    });
    const call = seen[11]![1].item as { type: string; name: string; call_id: string; arguments: string };
    expect(call).toMatchObject({ type: "function_call", name: "exec_command" });
    expect(call.call_id).toMatch(/^call_/);
    expect(JSON.parse(call.arguments)).toEqual({ cmd: "echo hi" });
    // OpenAI counts cached input inside input_tokens.
    expect(seen[12]![1]).toMatchObject({
      response: {
        status: "completed",
        model: "m3",
        usage: {
          input_tokens: 1020,
          input_tokens_details: { cached_tokens: 300 },
          output_tokens: 40,
          total_tokens: 1060,
        },
      },
    });
    expect(model.requests[0]).toMatchObject({ path: "/v1/responses", turn: 0 });
    const side = await (await post("/v1/responses", { model: "m3", input: [] })).json();
    expect(side).toMatchObject({ object: "response", output: [{ type: "message", content: [{ text: "OK" }] }] });
    expect(model.turnsUsed).toBe(1);
  });

  it("turns away a WebSocket upgrade with 426 so the agent falls back to HTTP at once", async () => {
    model = await startScriptedModel({ turns: [{ text: "x" }] });
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(`${model!.url}/v1/responses`, {
        headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13" },
      });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(426);
    expect(model.turnsUsed).toBe(0);
  });

  it("with holdAfterLastTurn leaves a conversation request past the last turn unanswered, side requests still answered", async () => {
    model = await startScriptedModel({ turns: [{ text: "only" }], holdAfterLastTurn: true });
    await post("/v1/messages", { model: "m", messages: [], tools });
    const held = post("/v1/messages", { model: "m", messages: [], tools }).then(
      () => "answered",
      () => "closed",
    );
    await model.waitForRequest((r) => r.turn === null);
    const side = await (await post("/v1/messages", { model: "small", messages: [] })).json();
    expect(side.content[0].text).toBe("OK");
    const first = await Promise.race([held, new Promise((resolve) => setTimeout(() => resolve("held"), 300))]);
    expect(first).toBe("held");
    await model.close();
    model = undefined;
    expect(await held).toBe("closed");
  });

  it("gives side requests without tools a harmless answer that consumes no turn", async () => {
    model = await startScriptedModel({ turns: [{ text: "the real turn" }] });
    const side = await (
      await post("/v1/messages", { model: "small", max_tokens: 1, messages: [{ role: "user", content: "quota" }] })
    ).json();
    expect(side).toMatchObject({ stop_reason: "end_turn", content: [{ type: "text", text: "OK" }] });
    const real = await (await post("/v1/messages", { model: "m", messages: [], tools })).json();
    expect(real.content[0].text).toBe("the real turn");
    expect(model.requests.map((r) => r.turn)).toEqual([null, 0]);
  });

  it("counts tokens without consuming a turn", async () => {
    model = await startScriptedModel({ turns: [{ text: "x" }] });
    const counted = await (
      await post("/v1/messages/count_tokens?beta=true", {
        model: "m",
        messages: [{ role: "user", content: "a".repeat(400) }],
        tools,
      })
    ).json();
    expect(counted.input_tokens).toBeGreaterThan(100);
    expect(model.turnsUsed).toBe(0);
  });

  it("waits for a request that has arrived or will arrive, and times out otherwise", async () => {
    model = await startScriptedModel({ turns: [{ text: "x" }] });
    const waiting = model.waitForRequest((r) => r.turn === 0, 10_000);
    await post("/v1/messages", { model: "m", messages: [{ role: "user", content: "kickoff" }], tools });
    expect((await waiting).body).toMatchObject({ messages: [{ content: "kickoff" }] });
    expect((await model.waitForRequest((r) => r.turn === 0)).turn).toBe(0);
    await expect(model.waitForRequest((r) => r.turn === 5, 50)).rejects.toThrow(/no matching request/);
  });

  it("tells conversation requests by their tools", () => {
    expect(isConversationRequest({ method: "POST", path: "/v1/messages?beta=true", body: { tools } })).toBe(true);
    expect(isConversationRequest({ method: "POST", path: "/v1/messages", body: { tools: [] } })).toBe(false);
    expect(isConversationRequest({ method: "POST", path: "/v1/messages/count_tokens", body: { tools } })).toBe(false);
    expect(isConversationRequest({ method: "POST", path: "/v1/responses", body: { tools } })).toBe(true);
    expect(isConversationRequest({ method: "GET", path: "/v1/responses", body: { tools } })).toBe(false);
  });

  it("closes with a connection still open", async () => {
    model = await startScriptedModel({ turns: [] });
    await fetch(`${model.url}/api/hello`, { method: "HEAD", keepalive: true });
    const url = model.url;
    await model.close();
    model = undefined;
    await expect(fetch(`${url}/api/hello`)).rejects.toThrow();
  });
});
