import { join } from "node:path";
import { createHost, type Host } from "@optio/host";
import { describe, expect, it } from "vitest";
import { TaskReleasedError } from "../spec/errors.js";
import type { TaskEvent } from "../spec/task-context.js";
import { FileStateStore } from "../store/file-state-store.js";
import { createAgentTask } from "../task/agent-task.js";
import { runTask } from "../task/run-task.js";
import { createScriptedAdapter } from "../testing/scripted-adapter.js";
import { taskEventLog } from "../testing/task-event-log.js";
import { hasTmuxSession, sendText, stopTmuxSession, tmuxSessionFor } from "../terminal/tmux.js";
import { taskConsumer } from "./run-agent-session.js";
import { useScriptedTaskRoots } from "./test-fixtures/scripted-task-roots.js";

/**
 * A run that is released (another engine took its task over) stops following
 * its agent without ending it: no outcome, no teardown, the agent left
 * running in tmux, and a resumed run adopts that same agent.
 */

const roots = useScriptedTaskRoots("optio-release-");

const agentPid = (event: TaskEvent) => event.type === "progress" && /^pid \d+$/.test(event.message ?? "");

describe.each(["local", "ssh"] as const)("a released agent task (%s host)", (kind) => {
  it("lets go of its agent, which a resumed run adopts: same pid, one outcome", { timeout: 300_000 }, async () => {
    const processId = `release-${kind}`;
    const ssh = kind === "ssh" ? { ssh: roots.sshd().sshConfig() } : {};
    const store = new FileStateStore({ dir: join(roots.root(), "state") });
    const task = () =>
      createAgentTask(createScriptedAdapter(), {
        processId,
        name: "released and adopted",
        config: { env: { OPTIO_SCENARIO: "interactive" }, ...ssh },
      });
    const host: Host = createHost({ consumer: taskConsumer("scripted"), processId, ...ssh });
    const tmux = tmuxSessionFor(host);
    const type = (text: string) => sendText(host, tmux, text, { submit: true, settleMs: 0 });
    try {
      const first = taskEventLog();
      const released = runTask(task(), { store, onEvent: first.onEvent });
      await first.waitFor((e) => e.type === "progress" && /^Scripted agent is (working|waiting)/.test(e.message ?? ""));
      await host.connect();
      await type("pid");
      const { event: pid } = await first.waitFor(agentPid);

      released.release();
      const refused = await released.outcome.catch((error: unknown) => error);
      expect(TaskReleasedError.isInstance(refused)).toBe(true);
      expect(
        first.events.filter((e) => e.type === "outcome" || (e.type === "agent-state" && e.state === "exited")),
      ).toEqual([]);
      // Nothing of the session was undone: the agent runs on in tmux, its task dir is there, no snapshot was taken.
      expect(await hasTmuxSession(host, tmux)).toBe(true);
      expect(await host.stat(join(host.taskDir, "session.json"))).toBeTruthy();
      expect(await store.latestSnapshot(processId)).toBeNull();

      const second = taskEventLog();
      const adopted = runTask(task(), { store, resume: true, onEvent: second.onEvent });
      await second.waitFor((e) => e.type === "widget" && e.widget !== null);
      await type("pid");
      expect((await second.waitFor(agentPid)).event).toEqual(pid);
      await type("quit");
      expect(await adopted.outcome).toMatchObject({ status: "done", summary: "asked to quit" });
      expect(second.events).toContainEqual({
        type: "report",
        level: "info",
        message: "Scripted agent from an earlier worker is still running for this task; adopting it",
      });
      expect(first.events.filter((e) => e.type === "outcome")).toEqual([]);
    } finally {
      await stopTmuxSession(host, tmux).catch(() => undefined);
      await host.disconnect();
    }
  });
});
