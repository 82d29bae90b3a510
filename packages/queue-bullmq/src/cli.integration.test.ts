import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { exitOf, lineFrom, printed } from "@optio/host/testing";
import { startTestPostgres, type TestPostgres } from "@optio/store-postgres/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scriptedInputs, scriptedTaskKind } from "./scripted-kind.js";
import { connectTaskQueue } from "./task-queue.js";
import { startTestRedis, type TestRedis } from "./test-redis.js";

const execFileAsync = promisify(execFile);
const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const KINDS = fileURLToPath(new URL("./test-fixtures/scripted-kinds.mjs", import.meta.url));

let redis: TestRedis;
let postgres: TestPostgres;
let dir: string;
let worker: ChildProcess | undefined;

beforeAll(async () => {
  [redis, postgres] = await Promise.all([startTestRedis(), startTestPostgres()]);
  dir = await mkdtemp(path.join(os.tmpdir(), "optio-queue-cli-"));
});

afterAll(async () => {
  if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill("SIGKILL");
  if (worker) await exitOf(worker);
  await Promise.all([redis?.stop(), postgres?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function optio(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [CLI, ...args, "--redis-url", redis.url], {
      env: { ...process.env, OPTIO_SCRIPTED_ROOT: dir },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("the optio command on real redis and postgres", () => {
  it("worker, submit, ls, send, cancel and resume", async () => {
    const databaseUrl = await postgres.createDatabase("cli");
    worker = spawn(
      process.execPath,
      [
        CLI,
        "worker",
        "--redis-url",
        redis.url,
        "--database-url",
        databaseUrl,
        "--kinds",
        KINDS,
        "--worker-id",
        "cli-w",
      ],
      {
        env: { ...process.env, OPTIO_SCRIPTED_ROOT: dir },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    await lineFrom(worker, "worker cli-w is taking tasks");

    const done = await optio(
      "submit",
      "scripted",
      "--process-id",
      "cli-1",
      "--payload",
      '{"ms":100}',
      "--kinds",
      KINDS,
      "--wait",
    );
    expect(done).toMatchObject({ code: 0 });
    expect(done.stdout).toMatch(/^submitted cli-1\ncli-1: done: pid \d+\n$/);

    const refused = await optio(
      "submit",
      "scripted",
      "--process-id",
      "cli-bad",
      "--payload",
      '{"ms":"x"}',
      "--kinds",
      KINDS,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("task_payload_invalid");
    expect(refused.stderr).toContain("payload.ms");

    const queue = connectTaskQueue({ redisUrl: redis.url, kinds: [scriptedTaskKind(dir)] });
    try {
      const watching = new AbortController();
      const widget = (async () => {
        for await (const event of queue.watch({ processId: "cli-2", signal: watching.signal }))
          if (event.type === "task" && event.event.type === "widget") return event.event;
      })();
      expect(
        await optio("submit", "scripted", "--process-id", "cli-2", "--payload", '{"ms":600000}', "--kinds", KINDS),
      ).toMatchObject({ code: 0 });
      const published = await widget;
      watching.abort();

      const listed = await optio("ls");
      expect(listed.code).toBe(0);
      const rows = listed.stdout
        .trim()
        .split("\n")
        .map((line) => line.split("\t"));
      expect(rows.find((r) => r[0] === "cli-2")).toEqual([
        "cli-2",
        "scripted",
        "running",
        "cli-w",
        "10% agent " + published?.widget?.url.split("/").at(-1),
        published?.widget?.url,
      ]);
      expect(rows.find((r) => r[0] === "cli-1")?.slice(0, 4)).toEqual(["cli-1", "scripted", "done", "cli-w"]);

      // Typed into the agent through the worker that runs it, as text or as named keys.
      expect(await optio("send", "cli-2", "fix the build", "--submit")).toMatchObject({
        code: 0,
        stdout: "sent to cli-2\n",
      });
      expect(await optio("send", "cli-2", "--keys", "Down", "Enter")).toMatchObject({ code: 0 });
      expect(await scriptedInputs(dir, "cli-2")).toEqual(['text "fix the build" submit', "keys Down Enter"]);
      const badKey = await optio("send", "cli-2", "--keys", "Nope");
      expect(badKey.code).toBe(1);
      expect(badKey.stderr).toMatch(/^optio: task_input_refused: input\.keys\.0: /);
      expect(await optio("send", "cli-2")).toMatchObject({
        code: 2,
        stderr: "optio: send takes one TEXT (quote it)\n",
      });
      expect((await optio("send", "cli-1", "too late")).stderr).toMatch(/^optio: task_not_running: /);
      expect((await optio("resume", "cli-2")).stderr).toMatch(/^optio: task_not_resumable: /);

      expect(await optio("cancel", "cli-2")).toMatchObject({ code: 0, stdout: "cancel requested for cli-2\n" });
      expect(await queue.waitForOutcome("cli-2")).toEqual({ status: "cancelled" });
      expect(await optio("cancel", "nobody")).toMatchObject({ code: 1 });

      // An ended task runs again: its finished stand-in agent is adopted, and the second run ends done with the same pid.
      const resumed = await optio("resume", "cli-1", "--wait");
      expect(resumed).toMatchObject({ code: 0, stdout: `resume requested for cli-1\n${done.stdout.split("\n")[1]}\n` });
      expect(await queue.getTask("cli-1")).toMatchObject({ state: "done", runs: 2 });
    } finally {
      await queue.close();
    }

    // A worker says what goes wrong under it, and is back at work once it is over.
    const said = printed(worker, "stderr", "optio worker: ", 15_000);
    await redis.halt();
    try {
      await said;
    } finally {
      await redis.resume();
    }
    expect(
      await optio("submit", "scripted", "--process-id", "cli-3", "--payload", '{"ms":100}', "--kinds", KINDS, "--wait"),
    ).toMatchObject({ code: 0 });

    worker.kill("SIGTERM");
    await lineFrom(worker, "worker cli-w stopped");
    expect(await exitOf(worker)).toBe(0);
  });
});
