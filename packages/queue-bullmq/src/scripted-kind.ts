import { existsSync } from "node:fs";
import { appendFile, readFile } from "node:fs/promises";
import { setTimeout as delay } from "node:timers/promises";
import path from "node:path";
import { TaskReleasedError, type TaskOutcome } from "@optio/agents";
import { createHost, type Host, shellCommand, shellQuote } from "@optio/host";
import * as z from "zod/mini";
import { defineTaskKind, type TaskKind } from "./task-kind.js";

const POLL_S = "0.05";
const POLL_MS = 50;

const scriptedPayload = z.object({
  /** How long the stand-in agent works before it is done. */
  ms: z.int().check(z.minimum(0), z.maximum(3_600_000)),
  /** The SSH host (a name from the worker's `hosts`) the agent runs on; this machine when absent. */
  host: z.optional(z.string()),
  /** A first run (not a resumed one) stops between its snapshot's blob and its record, reporting the blob's id: a capture cut short when its worker is killed there. */
  stopAfterBlob: z.optional(z.boolean()),
});

export type ScriptedPayload = z.infer<typeof scriptedPayload>;

/** One line of `<root>/<processId>/starts`: who ran the task, where, and whether it found the agent alive. */
export interface ScriptedStart {
  worker: string;
  host: string;
  resumed: boolean;
  adopted: boolean;
  pid: number;
}

/** Runs `command` on the host; its exit code, never a throw for a non-zero one. */
async function exitCodeOf(host: Host, command: string, signal?: AbortSignal): Promise<number | null> {
  return (await host.runCommand(command, { cwd: "/", ...(signal ? { signal } : {}) })).exitCode;
}

/**
 * A stand-in task kind for queue tests, named `scripted`: its "agent" is a
 * detached `sleep` on the task's host (this machine, or an SSH host the
 * payload names) that outlives the worker, as an agent in tmux does, and
 * leaves `agent.done` when it finishes; it appends its pid to `launches`. A
 * resumed run adopts it when it is still there (same pid); each run appends
 * a line to `starts`, and a finished task stores a snapshot, so a test can
 * count agents, runs and outcomes. Input sent to the task is appended to
 * `input`, one line each; a run that was released (its task taken over)
 * leaves its agent running and appends its worker's id to `releases`. `root` must be the same path on every host (the
 * test sshd shares this machine's disk).
 */
export function scriptedTaskKind(root: string): TaskKind<ScriptedPayload> {
  return defineTaskKind(
    "scripted",
    scriptedPayload,
    ({ ms, host: hostName, stopAfterBlob }, { processId, workerId, hosts }) => ({
      processId,
      name: `scripted ${processId}`,
      sendText: (text: string, options?: { submit?: boolean }) =>
        appendFile(
          path.join(root, processId, "input"),
          `text ${JSON.stringify(text)}${options?.submit ? " submit" : ""}\n`,
        ),
      sendKeys: (keys: readonly string[]) =>
        appendFile(path.join(root, processId, "input"), `keys ${keys.join(" ")}\n`),
      async run(ctx): Promise<TaskOutcome> {
        const ssh = hostName === undefined ? undefined : hosts[hostName];
        if (hostName !== undefined && !ssh)
          return { status: "failed", message: `worker ${workerId} has no host named ${hostName}` };
        // The task dir (and so the agent's files) lies under `root` on either kind of host.
        const host = createHost({
          consumer: "scripted",
          processId,
          env: { SCRIPTED_TASK_ROOT: root, SCRIPTED_REMOTE_TASK_ROOT: root },
          ...(ssh ? { ssh } : {}),
        });
        await host.connect();
        try {
          const filePath = (name: string) => path.posix.join(host.taskDir, name);
          const file = (name: string) => shellQuote(filePath(name));
          const pidFile = file("agent.pid");
          const doneFile = file("agent.done");
          let pid = ctx.resumeRequested
            ? Number((await host.runCommand(`cat ${pidFile} 2>/dev/null`, { cwd: "/" })).stdout.trim() || 0)
            : 0;
          const adopted = pid > 0 && (await exitCodeOf(host, `kill -0 ${pid} 2>/dev/null || [ -e ${doneFile} ]`)) === 0;
          if (!adopted) {
            // The agent records itself (as a tmux session is findable by name), so a worker killed right after launching it leaves it adoptable.
            const script = `echo $$ >> ${file("launches")}; echo $$ > ${pidFile}.new; mv ${pidFile}.new ${pidFile}; ${shellCommand(["sleep", (ms / 1000).toFixed(3)])} && echo done > ${doneFile}`;
            await host.runChecked(
              `rm -f ${pidFile} && (setsid sh -c ${shellQuote(script)} </dev/null >/dev/null 2>&1 &)`,
              { cwd: "/" },
            );
            pid = Number(
              (
                await host.runChecked(`while [ ! -e ${pidFile} ]; do sleep ${POLL_S}; done; cat ${pidFile}`, {
                  cwd: "/",
                })
              ).stdout.trim(),
            );
          }
          const start: ScriptedStart = {
            worker: workerId,
            host: hostName ?? "local",
            resumed: ctx.resumeRequested,
            adopted,
            pid,
          };
          await host.runChecked(`echo ${shellQuote(JSON.stringify(start))} >> ${file("starts")}`, { cwd: "/" });
          ctx.reportProgress(10, `agent ${pid}`);
          ctx.report("info", `agent ${pid} ${adopted ? "adopted" : "started"} by ${workerId}`);
          ctx.setWidget({ kind: "iframe", url: `http://127.0.0.1/${processId}/${pid}` });
          try {
            // Polled from here, not by a shell loop on the host: a worker SIGKILLed mid-task would leave that loop running forever.
            while (!(await host.stat(filePath("agent.done")))) await delay(POLL_MS, undefined, { signal: ctx.signal });
          } catch (error) {
            if (!ctx.signal.aborted) throw error;
            // Let go, not cancelled: the agent is another worker's to adopt now.
            if (TaskReleasedError.isInstance(ctx.signal.reason)) {
              await host.runChecked(`echo ${shellQuote(workerId)} >> ${file("releases")}`, { cwd: "/" });
              throw ctx.signal.reason;
            }
            // No `--`: dash's kill takes it for a bad pid and kills nothing.
            await host.runCommand(`kill -KILL -${pid} 2>/dev/null`, { cwd: "/" });
            return { status: "cancelled" };
          }
          const blob = await ctx.store.putBlob(Buffer.from(`${processId} ${pid}`));
          if (stopAfterBlob && !ctx.resumeRequested) {
            ctx.report("info", `blob ${blob} stored, its record held back`);
            await new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)));
          }
          await ctx.store
            .insertSnapshot({
              processId,
              agent: "scripted",
              capturedAt: new Date().toISOString(),
              endState: "done",
              workdirBlobId: blob,
              privateBlobId: blob,
              encrypted: false,
            })
            .catch(async (error: unknown) => {
              // As a real capture does: a blob whose record was refused is deleted (by the store once it is back, after an outage).
              await ctx.store.deleteBlob(blob).catch(() => undefined);
              throw error;
            });
          ctx.reportProgress(100, "done");
          return { status: "done", summary: `pid ${pid}` };
        } finally {
          await host.disconnect();
        }
      },
    }),
  );
}

/** The lines of one of the stand-in's files for `processId` under `root`; none while it does not exist. */
async function linesOf(root: string, processId: string, name: string): Promise<string[]> {
  const file = path.join(root, processId, name);
  if (!existsSync(file)) return [];
  return (await readFile(file, "utf8")).trim().split("\n");
}

/** The pid of every stand-in agent ever launched for `processId` under `root`. */
export async function scriptedLaunches(root: string, processId: string): Promise<number[]> {
  return (await linesOf(root, processId, "launches")).map(Number);
}

/** Every start recorded for `processId` under `root`. */
export async function scriptedStarts(root: string, processId: string): Promise<ScriptedStart[]> {
  return (await linesOf(root, processId, "starts")).map((line) => JSON.parse(line) as ScriptedStart);
}

/** Every input line the task of `processId` was sent under `root`. */
export async function scriptedInputs(root: string, processId: string): Promise<string[]> {
  return linesOf(root, processId, "input");
}

/** The id of every worker whose run of `processId` under `root` was released, leaving its agent running. */
export async function scriptedReleases(root: string, processId: string): Promise<string[]> {
  return linesOf(root, processId, "releases");
}
