import { setTimeout as sleep } from "node:timers/promises";
import { appendFile, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHost, type Host } from "@optio/host";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { UsageCommandSource, UsageFileSource, UsageRecord } from "../spec/usage.js";
import { taskEventLog, type TaskEventLog } from "../testing/task-event-log.js";
import { createUsageFollower, type UsageFollower } from "./follow-usage.js";
import { eventTaskContext } from "./test-fixtures/event-task-context.js";

/** Lines `<id> <model> <in> <out>`; anything else holds no record. */
function parseLine(line: string): UsageRecord[] {
  const [id, model, input, output] = line.split(" ");
  if (!id || !model || output === undefined) return [];
  return [
    { id, model, inputTokens: Number(input), outputTokens: Number(output), cacheReadTokens: 0, cacheWriteTokens: 0 },
  ];
}

const fileSource: UsageFileSource = {
  kind: "file",
  path: (where) => join(where.home, "records.log"),
  parse: parseLine,
};

let root: string;
let host: Host;
let log: TaskEventLog;
let where: { workdir: string; home: string };
let outcomeLog: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "optio-usage-follow-"));
  where = { workdir: root, home: root };
  outcomeLog = join(root, "optio.log");
  process.env.OPTIO_USAGE_FOLLOW_TEST_TASK_ROOT = root;
  host = createHost({ consumer: "optio-usage-follow-test", processId: "p" });
  await host.connect();
  log = taskEventLog();
});
afterEach(async () => {
  await host.disconnect();
  await rm(root, { recursive: true, force: true });
});

/** How long the follower's settle took, in ms. */
async function settleTime(follower: UsageFollower): Promise<number> {
  const started = performance.now();
  await follower.settle();
  return performance.now() - started;
}

const usageEvents = () => log.events.filter((e) => e.type === "usage");

describe("the usage follower", () => {
  it("follows a file that appears after it starts, counts a turn read twice once, and reads the last records when it finishes", async () => {
    const file = join(root, "records.log");
    const follower = createUsageFollower({
      ctx: eventTaskContext(root, log.onEvent),
      host,
      source: fileSource,
      where,
      outcomeLog,
    });
    follower.follow();
    await writeFile(file, "m1 model-a 100 10\nnot a record\nm1 model-a 100 10\n");
    await log.waitFor((e) => e.type === "usage");
    await appendFile(file, "m2 model-b 50 5\n");
    await log.waitFor((e) => e.type === "usage", { from: 1 });
    // Written as the agent stops: only the last read sees it.
    await appendFile(file, "m3 model-a 1 1\n");
    const totals = await follower.finish();
    expect(totals).toEqual({
      turns: 3,
      inputTokens: 151,
      outputTokens: 16,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      byModel: {
        "model-a": { turns: 2, inputTokens: 101, outputTokens: 11, cacheReadTokens: 0, cacheWriteTokens: 0 },
        "model-b": { turns: 1, inputTokens: 50, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0 },
      },
    });
    expect(usageEvents().map((e) => (e.type === "usage" ? e.record.id : ""))).toEqual(["m1", "m2", "m3"]);
    expect(usageEvents().at(-1)).toMatchObject({ total: totals });
  });

  it("polls a command source in the workdir, and has no totals while the command finds nothing", async () => {
    const source: UsageCommandSource = {
      kind: "command",
      command: () => "cat store.txt 2>/dev/null",
      parse: (output) => output.split("\n").flatMap(parseLine),
    };
    const follower = createUsageFollower({ ctx: eventTaskContext(root, log.onEvent), host, source, where, outcomeLog });
    follower.follow();
    await writeFile(join(root, "store.txt"), "t1 m 7 3\n");
    await log.waitFor((e) => e.type === "usage");
    await writeFile(join(root, "store.txt"), "t1 m 7 3\nt2 m 1 1\n");
    expect(await follower.finish()).toMatchObject({ turns: 2, inputTokens: 8, outputTokens: 4 });

    const empty = createUsageFollower({
      ctx: eventTaskContext(root, log.onEvent),
      host,
      source: { ...source, command: () => "cat missing 2>/dev/null" },
      where,
      outcomeLog,
    });
    empty.follow();
    expect(await empty.finish()).toBeUndefined();
  });

  it("warns once when the command fails saying why", async () => {
    const source: UsageCommandSource = {
      kind: "command",
      command: () => "echo 'no-such-tool: not found' >&2; exit 127",
      parse: () => [],
    };
    const follower = createUsageFollower({ ctx: eventTaskContext(root, log.onEvent), host, source, where, outcomeLog });
    follower.follow();
    await log.waitFor((e) => e.type === "report");
    expect(await follower.finish()).toBeUndefined();
    expect(log.events).toEqual([
      { type: "report", level: "warn", message: "reading the agent's usage failed: no-such-tool: not found" },
    ]);
  });

  it("settles once the command shows every turn recorded, for at most settleMs, and at once without a settleMs", async () => {
    const source: UsageCommandSource = {
      kind: "command",
      command: () => "cat state.txt",
      parse: () => [],
      settleMs: 300,
      settled: (output) => output.trim() === "recorded",
    };
    await writeFile(join(root, "state.txt"), "under way\n");
    const started = Date.now();
    await createUsageFollower({ ctx: eventTaskContext(root, log.onEvent), host, source, where, outcomeLog }).settle();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    const follower = createUsageFollower({
      ctx: eventTaskContext(root, log.onEvent),
      host,
      source: { ...source, settleMs: 10_000 },
      where,
      outcomeLog,
    });
    const settling = follower.settle();
    setTimeout(() => void writeFile(join(root, "state.txt"), "recorded\n"), 400);
    const waited = Date.now();
    await settling;
    expect(Date.now() - waited).toBeLessThan(5000);
    const quick = Date.now();
    await createUsageFollower({
      ctx: eventTaskContext(root, log.onEvent),
      host,
      source: fileSource,
      where,
      outcomeLog,
    }).settle();
    expect(Date.now() - quick).toBeLessThan(100);
  });

  it("settles a file source once the file holds still, so a turn written just after the end is counted", async () => {
    const file = join(root, "records.log");
    await writeFile(file, "m1 model-a 100 10\n");
    const follower = createUsageFollower({
      ctx: eventTaskContext(root, log.onEvent),
      host,
      source: { ...fileSource, settleMs: 5000 },
      where,
      outcomeLog,
    });
    follower.follow();
    // The agent still writes its last turn for a while after the session decided to end.
    const writing = (async () => {
      for (let i = 2; i <= 4; i++) {
        await sleep(150);
        await appendFile(file, `m${i} model-a 1 1\n`);
      }
    })();
    const waited = await settleTime(follower);
    await writing;
    expect(waited).toBeGreaterThanOrEqual(450);
    expect(waited).toBeLessThan(5000);
    expect((await follower.finish())?.turns).toBe(4);
  });

  it("settles a file source as soon as it was written after the outcome's line: the turn that wrote it is in", async () => {
    const file = join(root, "records.log");
    const source = { ...fileSource, settleMs: 5000 };
    await writeFile(file, "m1 model-a 100 10\n");
    await writeFile(outcomeLog, "DONE: written\n");
    const endedAt = new Date();
    await utimes(outcomeLog, endedAt, endedAt);
    // Written before DONE: the turn that wrote DONE may still be on its way.
    await utimes(file, new Date(endedAt.getTime() - 10_000), new Date(endedAt.getTime() - 10_000));
    const follower = createUsageFollower({ ctx: eventTaskContext(root, log.onEvent), host, source, where, outcomeLog });
    follower.follow();
    const recorded = sleep(50).then(() => appendFile(file, "m2 model-a 1 1\n"));
    const waited = await settleTime(follower);
    await recorded;
    expect(waited).toBeGreaterThanOrEqual(45);
    // Well before the file could have held still for long enough.
    expect(waited).toBeLessThan(500);
    expect((await follower.finish())?.turns).toBe(2);

    await utimes(file, new Date(endedAt.getTime() + 10_000), new Date(endedAt.getTime() + 10_000));
    expect(
      await settleTime(
        createUsageFollower({ ctx: eventTaskContext(root, log.onEvent), host, source, where, outcomeLog }),
      ),
    ).toBeLessThan(100);
  });

  it("reads nothing without a source", async () => {
    const follower = createUsageFollower({
      ctx: eventTaskContext(root, log.onEvent),
      host,
      source: undefined,
      where,
      outcomeLog,
    });
    follower.follow();
    expect(await follower.finish()).toBeUndefined();
    expect(log.events).toEqual([]);
  });
});
