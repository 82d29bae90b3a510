import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FileStateStore } from "../store/file-state-store.js";
import { type CliSandbox, createCliSandbox } from "./test-fixtures/cli-harness.js";

const fixtures = fileURLToPath(new URL("./test-fixtures/", import.meta.url));

let sandbox: CliSandbox;
let child: ChildProcess | undefined;
beforeEach(async () => {
  sandbox = await createCliSandbox();
});
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill("SIGKILL");
    await once(child, "exit");
  }
  child = undefined;
  await sandbox.cleanup();
});

/** Resolves once `predicate` holds for the output so far; rejects after `ms`. */
function waitForOutput(
  read: () => string,
  predicate: (text: string) => boolean,
  ms: number,
  what: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      clearInterval(poll);
      reject(new Error(`timed out after ${ms} ms waiting for ${what}; output so far:\n${read()}`));
    }, ms);
    const poll = setInterval(() => {
      if (predicate(read())) {
        clearTimeout(timer);
        clearInterval(poll);
        resolve();
      }
    }, 50);
  });
}

describe("optio CLI Ctrl-C", () => {
  it("cancels on SIGINT, exits 130, prints the resume command, and leaves a snapshot", async () => {
    const processId = "cli-sigint";
    child = spawn(
      process.execPath,
      [
        "--import",
        join(fixtures, "register-ts.mjs"),
        join(fixtures, "scripted-cli.ts"),
        "run",
        "take your time",
        "--process-id",
        processId,
        "--env",
        "OPTIO_SCENARIO=slow",
      ],
      {
        cwd: sandbox.cwd,
        env: { ...process.env, OPTIO_STATE_DIR: sandbox.stateDir, XDG_DATA_HOME: join(sandbox.root, "data") },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;

    await waitForOutput(
      () => stdout,
      (text) => /^STATUS \[ -- \] tick \d+/m.test(text),
      90_000,
      "a STATUS line",
    );
    child.kill("SIGINT");
    const [code] = await Promise.race([
      exited,
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`no exit within 60 s after SIGINT; stdout:\n${stdout}\nstderr:\n${stderr}`)),
          60_000,
        ),
      ),
    ]);

    expect(code, `stdout:\n${stdout}\nstderr:\n${stderr}`).toBe(130);
    expect(stdout).toContain(`Cancelled task ${processId}.`);
    expect(stdout).toContain(`optio-scripted run --process-id ${processId} --resume`);
    const snapshots = await new FileStateStore({ dir: sandbox.stateDir }).listSnapshots(processId);
    expect(snapshots.length).toBeGreaterThan(0);
    expect(snapshots[0]).toMatchObject({ processId, endState: "cancelled" });
  });
});
