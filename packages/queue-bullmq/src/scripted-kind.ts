import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { appendFile, mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { TaskOutcome } from "@optio/agents";
import { shellCommand, shellQuote } from "@optio/host";
import * as z from "zod/mini";
import { defineTaskKind, type TaskKind } from "./task-kind.js";

const POLL_MS = 50;

const scriptedPayload = z.object({
  /** How long the stand-in agent works before it is done. */
  ms: z.int().check(z.minimum(0), z.maximum(3_600_000)),
});

export type ScriptedPayload = z.infer<typeof scriptedPayload>;

/** One line of `<root>/<processId>/starts`: who ran the task, and whether it found the agent alive. */
export interface ScriptedStart {
  worker: string;
  resumed: boolean;
  adopted: boolean;
  pid: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A stand-in task kind for queue tests, named `scripted`: its "agent" is a
 * detached `sleep` that outlives the worker (as an agent in tmux does) and
 * leaves `agent.done` when it finishes; it appends its pid to `launches`. A
 * resumed run adopts it when it is still there (same pid); each run appends
 * a line to `starts`, and a finished task stores a snapshot, so a test can
 * count agents, runs and outcomes.
 */
export function scriptedTaskKind(root: string): TaskKind<ScriptedPayload> {
  return defineTaskKind("scripted", scriptedPayload, ({ ms }, { processId, workerId }) => ({
    processId,
    name: `scripted ${processId}`,
    async run(ctx): Promise<TaskOutcome> {
      const dir = path.join(root, processId);
      await mkdir(dir, { recursive: true });
      const pidFile = path.join(dir, "agent.pid");
      const doneFile = path.join(dir, "agent.done");
      let pid = ctx.resumeRequested && existsSync(pidFile) ? Number(await readFile(pidFile, "utf8")) : 0;
      const adopted = pid > 0 && (alive(pid) || existsSync(doneFile));
      if (!adopted) {
        // The agent records itself (as a tmux session is findable by name), so a worker killed right after launching it leaves it adoptable.
        const script = `echo $$ >> ${shellQuote(path.join(dir, "launches"))}; echo $$ > ${shellQuote(`${pidFile}.new`)}; mv ${shellQuote(`${pidFile}.new`)} ${shellQuote(pidFile)}; ${shellCommand(["sleep", (ms / 1000).toFixed(3)])} && echo done > ${shellQuote(doneFile)}`;
        spawn("sh", ["-c", script], { detached: true, stdio: "ignore" }).unref();
        while (!existsSync(pidFile)) await sleep(POLL_MS);
        pid = Number(await readFile(pidFile, "utf8"));
      }
      const start: ScriptedStart = { worker: workerId, resumed: ctx.resumeRequested, adopted, pid };
      await appendFile(path.join(dir, "starts"), `${JSON.stringify(start)}\n`);
      ctx.reportProgress(10, `agent ${pid}`);
      ctx.setWidget({ kind: "iframe", url: `http://127.0.0.1/${processId}/${pid}` });
      while (!existsSync(doneFile)) {
        if (ctx.signal.aborted) {
          if (alive(pid)) process.kill(-pid, "SIGKILL");
          return { status: "cancelled" };
        }
        await sleep(POLL_MS);
      }
      const blob = await ctx.store.putBlob(Buffer.from(`${processId} ${pid}`));
      await ctx.store.insertSnapshot({ processId, agent: "scripted", capturedAt: new Date().toISOString(), endState: "done", workdirBlobId: blob, privateBlobId: blob, encrypted: false });
      ctx.reportProgress(100, "done");
      return { status: "done", summary: `pid ${pid}` };
    },
  }));
}

/** The pid of every stand-in agent ever launched for `processId` under `root`. */
export async function scriptedLaunches(root: string, processId: string): Promise<number[]> {
  const file = path.join(root, processId, "launches");
  if (!existsSync(file)) return [];
  return (await readFile(file, "utf8")).trim().split("\n").map(Number);
}

/** Every start recorded for `processId` under `root`. */
export async function scriptedStarts(root: string, processId: string): Promise<ScriptedStart[]> {
  const file = path.join(root, processId, "starts");
  if (!existsSync(file)) return [];
  return (await readFile(file, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as ScriptedStart);
}
