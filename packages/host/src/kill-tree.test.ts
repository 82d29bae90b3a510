import { execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { killTreeScript } from "./kill-tree.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers kill -0; read its state.
  return !/^\d+ \(.*\) Z/.test(readStat(pid));
}

function readStat(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return "";
  }
}

/** Starts a tree that prints the pids of its four sleeping members, one per line. */
async function startTree(): Promise<{ root: number; pids: number[] }> {
  const script = [
    "trap '' TERM",
    "sleep 300 & echo $!",
    "( sleep 300 & echo $!; trap '' TERM; sleep 300 & echo $!; wait ) &",
    "( exec sh -c 'sleep 300 & echo $!; wait' ) &",
    "wait",
  ].join("\n");
  const child = spawn("/bin/sh", ["-c", script], { detached: true, stdio: ["ignore", "pipe", "inherit"] });
  const pids: number[] = [];
  const rl = createInterface({ input: child.stdout });
  for await (const line of rl) {
    pids.push(Number(line));
    if (pids.length === 4) break;
  }
  child.unref();
  return { root: child.pid!, pids };
}

function run(script: string, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile("/bin/sh", ["-c", script], { env }, (error, _stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stderr });
    });
  });
}

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("killTreeScript", () => {
  it("ends the root, children and grandchildren, escalating to SIGKILL", async () => {
    const { root, pids } = await startTree();
    expect(pids.length).toBe(4);
    expect([root, ...pids].every(alive)).toBe(true);
    const result = await run(killTreeScript(root, { graceMs: 300 }));
    expect(result).toEqual({ code: 0, stderr: "" });
    expect([root, ...pids].filter(alive)).toEqual([]);
  });

  it("works from /proc when ps is missing", async () => {
    const bin = await mkdtemp(path.join(os.tmpdir(), "killtree-bin-"));
    dirs.push(bin);
    for (const tool of ["awk", "sleep"]) {
      const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) =>
        execFile("/bin/sh", ["-c", `command -v ${tool}`], (e, stdout) => (e ? reject(e) : resolve({ stdout }))),
      );
      await symlink(stdout.trim(), path.join(bin, tool));
    }
    const { root, pids } = await startTree();
    const result = await run(killTreeScript(root, { graceMs: 200 }), { ...process.env, PATH: bin });
    expect(result.code).toBe(0);
    expect([root, ...pids].filter(alive)).toEqual([]);
  });

  it("exits 0 at once for a pid that does not exist", async () => {
    const result = await run(killTreeScript(4_000_000, { graceMs: 1000 }));
    expect(result.code).toBe(0);
  });

  it("refuses pids 0 and 1", () => {
    expect(() => killTreeScript(1, { graceMs: 0 })).toThrow(RangeError);
    expect(() => killTreeScript(0, { graceMs: 0 })).toThrow(RangeError);
  });
});
