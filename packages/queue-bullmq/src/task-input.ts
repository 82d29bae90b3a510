import { randomUUID } from "node:crypto";
import { AGENT_KEYS, type AgentKey, type Task } from "@optio/agents";
import { OptioError } from "@optio/host";
import type { Redis } from "ioredis";
import * as z from "zod/mini";
import { TaskInputError } from "./errors.js";

/** What a client types into a running task's agent, wherever the task runs. */
export type TaskInput = { type: "text"; text: string; submit?: boolean } | { type: "keys"; keys: AgentKey[] };

export const taskInputSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("text"),
    /** Pasted literally into the agent's terminal. */
    text: z.string().check(z.minLength(1, "must not be empty")),
    /** Presses Enter after the text. */
    submit: z.optional(z.boolean()),
  }),
  z.object({
    type: z.literal("keys"),
    /** Named keys, pressed in order (see AGENT_KEYS). */
    keys: z.array(z.enum(AGENT_KEYS)).check(z.minLength(1, "must name at least one key")),
  }),
]);

/** A request as it travels to the workers; the owner answers on `replyTo`. */
interface InputRequest {
  id: string;
  processId: string;
  replyTo: string;
  input: TaskInput;
}

/** The owner's answer: delivered, or refused with an optio error's code and message. */
type InputReply = { id: string; delivered: true } | { id: string; delivered: false; code: string; message: string };

/** The channel input requests are published on, to every worker of the queue. */
export function inputChannel(prefix: string, queueName: string): string {
  return `${prefix}:${queueName}:optio-input`;
}

/** A task that can take input: an AgentTask, or any task with the same two methods. */
function takesInput(task: Task): task is Task & Pick<Required<InputCapable>, "sendText" | "sendKeys"> {
  const capable = task as InputCapable;
  return typeof capable.sendText === "function" && typeof capable.sendKeys === "function";
}

interface InputCapable {
  sendText?(text: string, options?: { submit?: boolean }): Promise<void>;
  sendKeys?(keys: readonly AgentKey[]): Promise<void>;
}

/**
 * The worker's side: hands a request for one of its running tasks to that
 * task and answers the sender; a request for a task running elsewhere is
 * left to its owner.
 */
export async function deliverInput(message: string, taskOf: (processId: string) => Task | undefined, replies: Redis) {
  let request: InputRequest;
  try {
    request = JSON.parse(message) as InputRequest;
  } catch {
    return;
  }
  const task = taskOf(request.processId);
  if (!task) return;
  let reply: InputReply;
  try {
    if (!takesInput(task))
      throw new TaskInputError(
        `task ${request.processId} takes no input: its kind makes tasks without sendText/sendKeys`,
      );
    const input = taskInputSchema.parse(request.input);
    if (input.type === "text") await task.sendText(input.text, { submit: input.submit ?? false });
    else await task.sendKeys(input.keys);
    reply = { id: request.id, delivered: true };
  } catch (error) {
    reply = {
      id: request.id,
      delivered: false,
      code: OptioError.isInstance(error) ? error.code : "task_input_refused",
      message: error instanceof Error ? error.message : String(error),
    };
  }
  await replies.publish(request.replyTo, JSON.stringify(reply)).catch(() => {});
}

/**
 * The client's side: publishes the request and waits up to `timeoutMs` for
 * the owning worker's answer. Resolves once the input was typed; rejects
 * with TaskInputError carrying the owner's reason, or naming the silence.
 */
export async function requestInput(
  publisher: Redis,
  channel: string,
  processId: string,
  input: TaskInput,
  timeoutMs: number,
): Promise<void> {
  const request: InputRequest = { id: randomUUID(), processId, replyTo: `${channel}:reply:${randomUUID()}`, input };
  const subscriber = publisher.duplicate({ lazyConnect: true, enableOfflineQueue: true });
  subscriber.on("error", () => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    const answered = new Promise<InputReply>((resolve) => {
      subscriber.on("message", (_channel: string, text: string) => {
        const reply = JSON.parse(text) as InputReply;
        if (reply.id === request.id) resolve(reply);
      });
    });
    const silence = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    // Subscribed before asking, so a fast answer is not missed.
    await subscriber.connect();
    await subscriber.subscribe(request.replyTo);
    await publisher.publish(channel, JSON.stringify(request));
    const reply = await Promise.race([answered, silence]);
    if (!reply) throw new TaskInputError(`no worker running ${processId} answered within ${timeoutMs} ms`);
    if (!reply.delivered) throw new TaskInputError(`${processId}: ${reply.code}: ${reply.message}`);
  } finally {
    clearTimeout(timer);
    subscriber.disconnect();
  }
}
