import { join } from "node:path";
import { taskConsumer } from "../session/run-agent-session.js";

/**
 * Points the adapter's local and remote task roots (which default to dirs
 * beside the agent's own) into `root`, for this process and the CLIs it
 * starts; returns what puts the environment back.
 */
export function taskRootsIn(adapterId: string, root: string): () => void {
  const saved: Record<string, string | undefined> = {};
  for (const remote of ["", "REMOTE_"]) {
    const key = `${taskConsumer(adapterId).toUpperCase().replace(/-/g, "_")}_${remote}TASK_ROOT`;
    saved[key] = process.env[key];
    process.env[key] = join(root, `${remote.toLowerCase()}tasks`);
  }
  return () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}
