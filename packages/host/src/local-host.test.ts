import { readFileSync } from "node:fs";
import { mkdtemp, rm, stat, mkdir, chmod } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NotConnectedError, UnsafeProcessIdError } from "./errors.js";
import { hostContractSuite } from "./host-contract-suite.js";
import { LocalHost } from "./local-host.js";

/** True while `pid` exists and is not a zombie waiting for its reaper. */
function isLive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "optio-local-host-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

hostContractSuite("LocalHost", async () => ({
  host: new LocalHost({ consumer: "contract-test", processId: "suite-1", env: { CONTRACT_TEST_TASK_ROOT: root } }),
}));

describe("LocalHost", () => {
  it("finds its task dir from <CONSUMER>_TASK_ROOT, $XDG_DATA_HOME or the home default", () => {
    expect(new LocalHost({ consumer: "claudecode", processId: "p", env: { CLAUDECODE_TASK_ROOT: "/r" } }).taskDir).toBe("/r/p");
    expect(new LocalHost({ consumer: "claudecode", processId: "p", env: { XDG_DATA_HOME: "/x" } }).workdir).toBe("/x/claudecode/p/workdir");
    expect(new LocalHost({ consumer: "claudecode", processId: "p", env: {}, home: "/h" }).taskDir).toBe("/h/.local/share/claudecode/p");
  });

  it("rejects unsafe process ids", () => {
    for (const id of ["../x", "a b", "a;rm", "", ".."]) {
      expect(() => new LocalHost({ consumer: "c", processId: id, env: { C_TASK_ROOT: root } }), id).toThrow(UnsafeProcessIdError);
    }
  });

  it("chmods an existing task dir to 0700 on connect", async () => {
    const host = new LocalHost({ consumer: "c", processId: "existing", env: { C_TASK_ROOT: root } });
    await mkdir(host.workdir, { recursive: true, mode: 0o755 });
    await chmod(host.taskDir, 0o755);
    await host.connect();
    expect((await stat(host.taskDir)).mode & 0o777).toBe(0o700);
    expect((await stat(host.workdir)).mode & 0o777).toBe(0o700);
    await host.disconnect();
    await host.disconnect();
  });

  it("refuses work before connect and after disconnect", async () => {
    const host = new LocalHost({ consumer: "c", processId: "nc", env: { C_TASK_ROOT: root } });
    await expect(host.runCommand("true")).rejects.toBeInstanceOf(NotConnectedError);
    await host.connect();
    await host.disconnect();
    await expect(host.readFile("x")).rejects.toBeInstanceOf(NotConnectedError);
  });

  it("releases a running spawn and a tail on disconnect", async () => {
    const host = new LocalHost({ consumer: "c", processId: "release", env: { C_TASK_ROOT: root } });
    await host.connect();
    const handle = await host.spawn("sleep 300 & echo $!; wait");
    const child = await new Promise<number>((resolve) => handle.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim()))));
    const tail = host.tailFile("never.log")[Symbol.asyncIterator]();
    const pending = tail.next();
    await host.disconnect();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(await handle.exited).toMatchObject({ code: null });
    expect(isLive(child)).toBe(false);
  });
});
