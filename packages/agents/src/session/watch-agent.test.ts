import { setTimeout as sleep } from "node:timers/promises";
import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHost, type Host } from "@optio/host";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDeliverableQueue } from "../protocol/deliverables.js";
import type { TaskContext, TaskEvent } from "../spec/task-context.js";
import { taskEventLog, type TaskEventLog } from "../testing/task-event-log.js";
import { tmuxSessionFor } from "../terminal/tmux.js";
import { eventTaskContext } from "./test-fixtures/event-task-context.js";
import { watchAgent } from "./watch-agent.js";

let root: string;
let host: Host;
let log: TaskEventLog;
let ctx: TaskContext;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "optio-watch-agent-"));
  process.env.OPTIO_WATCH_AGENT_TEST_TASK_ROOT = root;
  host = createHost({ consumer: "optio-watch-agent-test", processId: "p" });
  await host.connect();
  log = taskEventLog();
  ctx = {
    ...eventTaskContext(root, log.onEvent),
    reportProgress: (percent, message) => log.onEvent({ type: "progress", percent, message }),
  };
});
afterEach(async () => {
  await host.disconnect();
  await rm(root, { recursive: true, force: true });
});

const status = (message: string) => (e: TaskEvent) => e.type === "progress" && e.message === message;

describe("watchAgent", () => {
  it("records how far it got beside the tail: lines are handled while a record is written, the newest count is recorded next, and the watch ends after the last record", async () => {
    const logPath = join(root, "optio.log");
    await writeFile(logPath, "STATUS: one\n");
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const told: number[] = [];
    let writing = 0;
    let overlapped = false;
    let lastDone = false;
    const watching = watchAgent({
      ctx,
      host,
      session: tmuxSessionFor(host),
      mode: "redirect",
      logPath,
      deliverables: createDeliverableQueue({ host, deliver: async () => {}, report: () => {} }),
      onLinesHandled: async (lines) => {
        if (writing++ > 0) overlapped = true;
        told.push(lines);
        lastDone = false;
        // The first record is slow (a disk busy with an fsync); later ones take a moment too.
        await (told.length === 1 ? held : sleep(20));
        lastDone = true;
        writing -= 1;
      },
    });
    await log.waitFor(status("one"));
    await appendFile(logPath, "STATUS: two\n");
    await log.waitFor(status("two"));
    await appendFile(logPath, "STATUS: three\n");
    await log.waitFor(status("three"));
    // The batch that decides the outcome is not recorded: the session ends with it.
    await appendFile(logPath, "DONE: ok\n");
    release();
    expect(await watching).toEqual({ status: "done", summary: "ok" });
    expect(lastDone).toBe(true);
    expect(told).toEqual([1, 3]);
    expect(overlapped).toBe(false);
  });
});
