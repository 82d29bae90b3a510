import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { runCli } from "../cli/run-cli.js";
import { createScriptedAdapter } from "../testing/scripted-adapter.js";
import { endTaskSession, listTaskSessions } from "./task-sessions.js";
import { processesOf } from "./test-fixtures/processes-of.js";
import { useScriptedTaskRoots } from "./test-fixtures/scripted-task-roots.js";
import { Worker } from "./test-fixtures/worker-process.js";

/** A worker is SIGKILLed with its agent running; the orphan is listed, then ended with every process of it. */

const roots = useScriptedTaskRoots("optio-sessions-");

describe.each(["local", "ssh"] as const)("task sessions on the %s host (API and ps / kill)", (kind) => {
  it("lists an orphaned agent and ends it with every process of it", { timeout: 180_000 }, async () => {
    const processId = `orphan-${kind}`;
    const ssh = kind === "ssh" ? { ssh: roots.sshd().sshConfig() } : {};
    const worker = new Worker({ mode: "start", stateDir: join(roots.root(), "state"), processId, ...ssh });
    await worker.waitFor(
      "the launch",
      (e) => e.type === "progress" && /^Scripted agent is (working|waiting)/.test(e.message ?? ""),
    );
    worker.kill();
    await worker.exited;

    const before = Date.now();
    const listed = await listTaskSessions({ agent: "scripted", ...ssh });
    expect(listed.map((s) => ({ processId: s.processId, alive: s.alive }))).toEqual([{ processId, alive: true }]);
    const [session] = listed;
    expect(session?.agentPid).toBeGreaterThan(0);
    expect(session?.startedAt.getTime()).toBeLessThanOrEqual(before);
    expect(processesOf(join(roots.taskRoot(kind), processId)).some((p) => p.startsWith(`${session?.agentPid} `))).toBe(
      true,
    );

    const config = roots.sshd().sshConfig();
    const sshArgs =
      kind === "ssh"
        ? [
            "--ssh",
            `${config.username}@${config.host}:${config.port}`,
            "--identity",
            String(config.identityFile),
            "--known-hosts",
            String(config.knownHostsFile),
          ]
        : [];
    const cli = async (...argv: string[]) => {
      let out = "";
      const stream = { write: (text: string) => ((out += text), true) };
      const code = await runCli(createScriptedAdapter(), [...argv, ...sshArgs], { stdout: stream, stderr: stream });
      return { code, out };
    };
    const ps = await cli("ps", "--json");
    expect(ps.code).toBe(0);
    expect(
      ps.out
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as unknown),
    ).toEqual([{ ...session, startedAt: session?.startedAt.toISOString() }]);
    expect(await cli("kill", processId)).toEqual({ code: 0, out: `Ended task ${processId}.\n` });
    // The session's own tree is gone at once; the dead worker's remote tail notices its lost connection within a poll.
    const deadline = Date.now() + 10_000;
    while (processesOf(join(roots.taskRoot(kind), processId)).length > 0 && Date.now() < deadline) await sleep(50);
    expect(processesOf(join(roots.taskRoot(kind), processId))).toEqual([]);
    expect(await listTaskSessions({ agent: "scripted", ...ssh })).toEqual([]);
    expect(await endTaskSession({ agent: "scripted", processId, ...ssh })).toBe(false);
  });
});
