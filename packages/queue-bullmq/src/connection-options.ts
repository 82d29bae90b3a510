import { OptioConfigError } from "@optio/host";
import * as z from "zod/mini";

/** Where the queue lives; the same on every worker and client. */
export const connectionFields = {
  /** `redis://[user:password@]host:port[/db]` of the Redis that holds the queue. */
  redisUrl: z.string().check(z.regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")),
  /** The queue's name: workers and clients on the same name share tasks; default `optio-tasks`. */
  queueName: z._default(
    z.string().check(z.regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 characters of [A-Za-z0-9._-]")),
    "optio-tasks",
  ),
  /** The prefix of every Redis key the queue uses; default `optio`. */
  prefix: z._default(
    z.string().check(z.regex(/^[A-Za-z0-9._-]{1,32}$/, "must be 1-32 characters of [A-Za-z0-9._-]")),
    "optio",
  ),
};

/**
 * Redis connection options every connection of the queue uses: a lost connection is tried again at least once a
 * second, so a Redis that comes back is in use within about a second (ioredis and BullMQ back off to many seconds).
 */
export const reconnectOptions = { retryStrategy: (times: number): number => Math.min(times * 100, 1000) };

/** The options parsed with defaults, or OptioConfigError naming the first bad field. */
export function parseOptions<S extends z.ZodMiniType>(schema: S, input: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data as z.infer<S>;
  const issue = parsed.error.issues[0];
  const field = issue && issue.path.length > 0 ? `${what}.${issue.path.join(".")}` : what;
  throw new OptioConfigError(`${field}: ${issue?.message ?? "invalid"}`, { cause: parsed.error });
}
