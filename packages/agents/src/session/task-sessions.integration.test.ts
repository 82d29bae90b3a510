import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestSshd, type TestSshd } from "@optio/host/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { endTaskSession, listTaskSessions } from "./task-sessions.js";
import { processesOf } from "./test-fixtures/processes-of.js";
import { Worker } from "./test-fixtures/worker-process.js";

/** A worker is SIGKILLed with its agent running; the orphan is listed, then ended with every process of it. */

let root: string;
let sshd: TestSshd;
const roots = { local: () => join(root, "tasks"), ssh: () => join(root, "remote-tasks") };

beforeAll(async () => {
  // Started before the roots are in the environment: the server inherits it, and would match the process scan.
  sshd = await startTestSshd();
  root = await mkdtemp(join(tmpdir(), "optio-sessions-"));
  process.env.OPTIO_SCRIPTED_TASK_ROOT = roots.local();
  process.env.OPTIO_SCRIPTED_REMOTE_TASK_ROOT = roots.ssh();
});

afterAll(async () => {
  delete process.env.OPTIO_SCRIPTED_TASK_ROOT;
  delete process.env.OPTIO_SCRIPTED_REMOTE_TASK_ROOT;
  await sshd?.stop();
  await rm(root, { recursive: true, force: true });
});

describe.each(["local", "ssh"] as const)("task sessions on the %s host", (kind) => {
  it("lists an orphaned agent and ends it with every process of it", { timeout: 180_000 }, async () => {
    const processId = `orphan-${kind}`;
    const ssh = kind === "ssh" ? { ssh: sshd.sshConfig() } : {};
    const worker = new Worker({ mode: "start", stateDir: join(root, "state"), processId, ...ssh });
    await worker.waitFor("the launch", (e) => e.type === "progress" && /^Scripted agent is (working|waiting)/.test(e.message ?? ""));
    worker.kill();
    await worker.exited;

    const before = Date.now();
    const listed = await listTaskSessions({ agent: "scripted", ...ssh });
    expect(listed.map((s) => ({ processId: s.processId, alive: s.alive }))).toEqual([{ processId, alive: true }]);
    const [session] = listed;
    expect(session?.agentPid).toBeGreaterThan(0);
    expect(session?.startedAt.getTime()).toBeLessThanOrEqual(before);
    expect(processesOf(join(roots[kind](), processId)).some((p) => p.startsWith(`${session?.agentPid} `))).toBe(true);

    expect(await endTaskSession({ agent: "scripted", processId, ...ssh })).toBe(true);
    expect(processesOf(join(roots[kind](), processId))).toEqual([]);
    expect(await listTaskSessions({ agent: "scripted", ...ssh })).toEqual([]);
    expect(await endTaskSession({ agent: "scripted", processId, ...ssh })).toBe(false);
  });
});
