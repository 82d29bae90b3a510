import { readdirSync, readFileSync, readlinkSync } from "node:fs";

function readProc(pid: string, what: string): string {
  try {
    return readFileSync(`/proc/${pid}/${what}`, "utf8");
  } catch {
    return "";
  }
}

/** Live processes of a task: its dir in their command line, working directory or environment (tmux server, wrapper, agent, its children). */
export function processesOf(taskDir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    const stat = readProc(pid, "stat");
    if (stat === "" || stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
    const cmdline = readProc(pid, "cmdline").replaceAll("\0", " ");
    let cwd = "";
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      // Gone, or not ours to read.
    }
    if (cmdline.includes(taskDir) || cwd.startsWith(taskDir) || readProc(pid, "environ").includes(taskDir))
      found.push(`${pid} ${cmdline.trim()}`);
  }
  return found;
}
