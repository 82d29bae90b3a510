import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { SSHConfigInput } from "@optio/host";
import type { TaskEvent } from "../../spec/task-context.js";

const worker = fileURLToPath(new URL("./adopt-worker.mjs", import.meta.url));
/** Bound on any one wait for a worker's event. */
export const WORKER_WAIT_MS = 60_000;

export interface WorkerArgs {
  /** `start` starts the task; `resume` continues it. */
  mode: "start" | "resume";
  stateDir: string;
  processId: string;
  /** Run the task on this SSH host. */
  ssh?: SSHConfigInput;
}

/** A running worker process and the events it has printed, with a way to wait for one. */
export class Worker {
  readonly events: TaskEvent[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private waiters: Array<() => void> = [];

  constructor(args: WorkerArgs) {
    const env = { ...process.env, ...(args.ssh ? { OPTIO_TEST_SSH: JSON.stringify(args.ssh) } : {}) };
    this.child = spawn(process.execPath, [worker, args.mode, args.stateDir, args.processId], {
      env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    createInterface({ input: this.child.stdout! }).on("line", (text) => {
      this.events.push(JSON.parse(text) as TaskEvent);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
    void this.exited.then(() => {
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Resolves with the first event `match` accepts; fails when the worker exits or the bound passes first. */
  async waitFor(what: string, match: (event: TaskEvent) => boolean): Promise<TaskEvent> {
    const deadline = Date.now() + WORKER_WAIT_MS;
    let exited = false;
    void this.exited.then(() => (exited = true));
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      if (exited || Date.now() > deadline)
        throw new Error(
          `the worker ${exited ? "exited" : "timed out"} before ${what}; events: ${JSON.stringify(this.events)}`,
        );
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 1000);
      });
    }
  }

  kill(): void {
    this.child.kill("SIGKILL");
  }
}
