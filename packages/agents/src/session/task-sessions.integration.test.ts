import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { endTaskSession, listTaskSessions } from "./task-sessions.js";
import { processesOf } from "./test-fixtures/processes-of.js";
import { useScriptedTaskRoots } from "./test-fixtures/scripted-task-roots.js";
import { Worker } from "./test-fixtures/worker-process.js";

/** A worker is SIGKILLed with its agent running; the orphan is listed, then ended with every process of it. */

const roots = useScriptedTaskRoots("optio-sessions-");

describe.each(["local", "ssh"] as const)("task sessions on the %s host", (kind) => {
  it("lists an orphaned agent and ends it with every process of it", { timeout: 180_000 }, async () => {
    const processId = `orphan-${kind}`;
    const ssh = kind === "ssh" ? { ssh: roots.sshd().sshConfig() } : {};
    const worker = new Worker({ mode: "start", stateDir: join(roots.root(), "state"), processId, ...ssh });
    await worker.waitFor("the launch", (e) => e.type === "progress" && /^Scripted agent is (working|waiting)/.test(e.message ?? ""));
    worker.kill();
    await worker.exited;

    const before = Date.now();
    const listed = await listTaskSessions({ agent: "scripted", ...ssh });
    expect(listed.map((s) => ({ processId: s.processId, alive: s.alive }))).toEqual([{ processId, alive: true }]);
    const [session] = listed;
    expect(session?.agentPid).toBeGreaterThan(0);
    expect(session?.startedAt.getTime()).toBeLessThanOrEqual(before);
    expect(processesOf(join(roots.taskRoot(kind), processId)).some((p) => p.startsWith(`${session?.agentPid} `))).toBe(true);

    expect(await endTaskSession({ agent: "scripted", processId, ...ssh })).toBe(true);
    // The session's own tree is gone at once; the dead worker's remote tail notices its lost connection within a poll.
    const deadline = Date.now() + 10_000;
    while (processesOf(join(roots.taskRoot(kind), processId)).length > 0 && Date.now() < deadline) await sleep(50);
    expect(processesOf(join(roots.taskRoot(kind), processId))).toEqual([]);
    expect(await listTaskSessions({ agent: "scripted", ...ssh })).toEqual([]);
    expect(await endTaskSession({ agent: "scripted", processId, ...ssh })).toBe(false);
  });
});
