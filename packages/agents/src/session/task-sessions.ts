import { randomUUID } from "node:crypto";
import { posix } from "node:path";
import { createHost, shellQuote, validateProcessId, type Host, type SSHConfigInput } from "@optio/host";
import { taskConsumer } from "./run-agent-session.js";
import { hasTmuxSession, stopTmuxSession, tmuxCommand, tmuxSessionAt } from "../terminal/tmux.js";

/** A task's tmux session found on a host, whether or not a worker still follows it. */
export interface TaskSessionInfo {
  processId: string;
  /** The pane's process: the launch wrapper, root of every process of the agent. */
  panePid: number;
  /** The agent process (the wrapper's child), or null when none runs. */
  agentPid: number | null;
  /** The agent has not exited (its pane is live). */
  alive: boolean;
  /** When the session was started. */
  startedAt: Date;
}

/** Which agent's task sessions to look at, and on which host (local, or over SSH). */
export interface TaskSessionsOptions {
  /** The adapter id (`claudecode`, `opencode`): whose task root is searched. */
  agent: string;
  /** The host to look on; unset means this machine. */
  ssh?: SSHConfigInput;
  /** Environment used to find the task root; defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** The prefix of the scratch task dir a listing connects with; never a task of its own. */
const SCRATCH_PREFIX = ".optio-sessions-";

/**
 * Runs `fn` with a host connected for the agent's task root. A Host always
 * has a task dir of its own, so this one gets a scratch dir, removed after.
 */
async function withTaskRoot<T>(options: TaskSessionsOptions, fn: (host: Host, root: string) => Promise<T>): Promise<T> {
  const host = createHost({
    consumer: taskConsumer(options.agent),
    processId: `${SCRATCH_PREFIX}${randomUUID()}`,
    ssh: options.ssh,
    env: options.env,
  });
  try {
    await host.connect();
    return await fn(host, posix.dirname(host.taskDir));
  } finally {
    await host.remove(host.taskDir).catch(() => undefined);
    await host.disconnect();
  }
}

async function taskIds(host: Host, root: string): Promise<string[]> {
  const r = await host.runChecked(
    `cd ${shellQuote(root)} && for d in * .[!.]*; do if [ -d "$d" ]; then printf '%s\\n' "$d"; fi; done`,
  );
  return r.stdout.split("\n").filter((id) => id !== "" && !id.startsWith(SCRATCH_PREFIX) && isProcessId(id));
}

function isProcessId(id: string): boolean {
  try {
    validateProcessId(id);
    return true;
  } catch {
    return false;
  }
}

/** The task sessions on the host, oldest first: every task dir of the agent whose tmux server answers. */
export async function listTaskSessions(options: TaskSessionsOptions): Promise<TaskSessionInfo[]> {
  return withTaskRoot(options, async (host, root) => {
    const ids = await taskIds(host, root);
    if (ids.length === 0) return [];
    // One round trip for every session and the process table: over SSH each command is a login.
    const panes = ids.map((id) => {
      const session = tmuxSessionAt(posix.join(root, id));
      const look = tmuxCommand(
        session,
        "list-panes",
        "-t",
        session.name,
        "-F",
        "#{pane_pid} #{pane_dead} #{session_created}",
      );
      return `printf '%s %s\\n' ${shellQuote(id)} "$(if [ -S ${shellQuote(session.socket)} ]; then ${look} 2>/dev/null | head -n 1; fi)"`;
    });
    const r = await host.runChecked([...panes, "echo --", "ps -A -o pid= -o ppid="].join("\n"));
    const [sessionPart = "", psPart = ""] = r.stdout.split("\n--\n");
    const children = new Map<number, number[]>();
    for (const line of psPart.split("\n")) {
      const [pid, ppid] = line.trim().split(/\s+/).map(Number);
      if (pid === undefined || ppid === undefined || Number.isNaN(pid) || Number.isNaN(ppid)) continue;
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    }
    const found: TaskSessionInfo[] = [];
    for (const line of sessionPart.split("\n")) {
      const [processId, pid, dead, created] = line.trim().split(/\s+/);
      if (!processId || !pid || !created) continue;
      const panePid = Number(pid);
      const alive = dead === "0";
      found.push({
        processId,
        panePid,
        agentPid: alive ? (children.get(panePid)?.[0] ?? null) : null,
        alive,
        startedAt: new Date(Number(created) * 1000),
      });
    }
    return found.sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
  });
}

/**
 * Ends a task's session: the agent's whole process tree (waiting until it is
 * gone), then its tmux server. The task dir stays: a resume then restores the
 * latest snapshot over it. Resolves false when the task had no session.
 */
export async function endTaskSession(options: TaskSessionsOptions & { processId: string }): Promise<boolean> {
  const processId = validateProcessId(options.processId);
  return withTaskRoot(options, async (host, root) => {
    const session = tmuxSessionAt(posix.join(root, processId));
    if (!(await hasTmuxSession(host, session))) return false;
    await stopTmuxSession(host, session);
    return true;
  });
}
