import type { Task } from "@optio/agents";
import type { SSHConfigInput } from "@optio/host";
import * as z from "zod/mini";
import { TaskPayloadError, UnknownTaskKindError } from "./errors.js";

/** What a worker tells a task kind besides the payload. */
export interface TaskKindContext {
  /** The task's id, as given to `submitTask`. */
  readonly processId: string;
  /** The id of the worker that runs it. */
  readonly workerId: string;
  /** The SSH hosts this worker was given, by name, so payloads name a host instead of carrying its credentials. */
  readonly hosts: Readonly<Record<string, SSHConfigInput>>;
}

/**
 * A kind of task, registered by name on every worker: only its JSON payload
 * travels through the queue; the code that turns it into a Task (callbacks
 * and all) stays in each process.
 */
export interface TaskKind<P = unknown> {
  readonly name: string;
  readonly payload: z.ZodMiniType<P>;
  /** Makes the Task for one run; a task that goes on (on another worker, or after its state store came back) gets a fresh one. */
  create(payload: P, context: TaskKindContext): Task | Promise<Task>;
}

/** Any task kind, whatever its payload: a list mixes kinds of different payload types, each checked by its own schema. */
export type AnyTaskKind = TaskKind<any>;

const kindNameSchema = z.string().check(z.regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 characters of [A-Za-z0-9._-]"));

/** A task kind named `name` whose payloads must pass `payload`. */
export function defineTaskKind<P>(name: string, payload: z.ZodMiniType<P>, create: TaskKind<P>["create"]): TaskKind<P> {
  const checked = kindNameSchema.safeParse(name);
  if (!checked.success)
    throw new UnknownTaskKindError(
      `task kind name ${JSON.stringify(name)}: ${checked.error.issues[0]?.message ?? "invalid"}`,
    );
  return { name, payload, create };
}

/** The kinds by name; two kinds of one name are refused. */
export function kindsByName(kinds: readonly AnyTaskKind[]): ReadonlyMap<string, TaskKind<unknown>> {
  const map = new Map<string, TaskKind<unknown>>();
  for (const kind of kinds) {
    if (map.has(kind.name)) throw new UnknownTaskKindError(`two task kinds are named ${JSON.stringify(kind.name)}`);
    map.set(kind.name, kind);
  }
  return map;
}

/** The payload as the kind's schema parses it, or TaskPayloadError naming the first bad field. */
export function parsePayload(kind: TaskKind<unknown>, payload: unknown): unknown {
  const parsed = kind.payload.safeParse(payload);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue && issue.path.length > 0 ? `payload.${issue.path.join(".")}` : "payload";
  throw new TaskPayloadError(`${kind.name} ${field}: ${issue?.message ?? "invalid"}`, { cause: parsed.error });
}

/** The registered kind named `name`, or UnknownTaskKindError. */
export function kindNamed(kinds: ReadonlyMap<string, TaskKind<unknown>>, name: string): TaskKind<unknown> {
  const kind = kinds.get(name);
  if (!kind)
    throw new UnknownTaskKindError(
      `no task kind named ${JSON.stringify(name)} is registered (known: ${[...kinds.keys()].join(", ") || "none"})`,
    );
  return kind;
}
