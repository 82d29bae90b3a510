import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, open, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import * as tar from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NotConnectedError, PathEscapeError, UnsafeProcessIdError } from "./errors.js";
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
  it("refuses an archive from a file or bytes, keeping the workdir, and leaves no tar reading it after a refusal", async () => {
    const host = new LocalHost({
      consumer: "contract-test",
      processId: "file-check",
      env: { CONTRACT_TEST_TASK_ROOT: root },
    });
    await host.connect();
    try {
      await host.writeText("kept.txt", "kept");
      // A large entry first, so the refusal comes while tar is still reading.
      const pack = tar.pack();
      pack.entry({ name: "big.bin" }, randomBytes(16 * 1024 * 1024));
      pack.entry({ name: "../escape.txt" }, "x");
      pack.finalize();
      const file = path.join(root, "hostile.tar.gz");
      await pipeline(pack, createGzip(), createWriteStream(file));
      const input = await open(file, "r");
      let error: unknown;
      try {
        error = await host.restoreWorkdirFromFile(input).catch((e: unknown) => e);
      } finally {
        await input.close();
      }
      expect(PathEscapeError.isInstance(error)).toBe(true);
      expect((await host.readFile("kept.txt")).toString()).toBe("kept");
      expect(await host.stat("big.bin")).toBeNull();
      const readers = execFileSync(
        "/bin/sh",
        [
          "-c",
          `for f in /proc/[0-9]*/fd/*; do [ "$(readlink "$f")" = ${JSON.stringify(file)} ] && echo "$f"; done; true`,
        ],
        { encoding: "utf8" },
      );
      expect(readers).toBe("");
      const fromBytes = await host.restoreWorkdirFromBytes(readFileSync(file)).catch((e: unknown) => e);
      expect(PathEscapeError.isInstance(fromBytes)).toBe(true);
      expect((await host.readFile("kept.txt")).toString()).toBe("kept");
      expect(await host.stat("big.bin")).toBeNull();
    } finally {
      await host.disconnect();
    }
  });

  it("finds its task dir from <CONSUMER>_TASK_ROOT, $XDG_DATA_HOME or the home default", () => {
    expect(new LocalHost({ consumer: "claudecode", processId: "p", env: { CLAUDECODE_TASK_ROOT: "/r" } }).taskDir).toBe(
      "/r/p",
    );
    expect(new LocalHost({ consumer: "claudecode", processId: "p", env: { XDG_DATA_HOME: "/x" } }).workdir).toBe(
      "/x/claudecode/p/workdir",
    );
    expect(new LocalHost({ consumer: "claudecode", processId: "p", env: {}, home: "/h" }).taskDir).toBe(
      "/h/.local/share/claudecode/p",
    );
  });

  it("rejects unsafe process ids", () => {
    for (const id of ["../x", "a b", "a;rm", "", ".."]) {
      expect(() => new LocalHost({ consumer: "c", processId: id, env: { C_TASK_ROOT: root } }), id).toThrow(
        UnsafeProcessIdError,
      );
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
    const child = await new Promise<number>((resolve) =>
      handle.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim()))),
    );
    const tail = host.tailFile("never.log")[Symbol.asyncIterator]();
    const pending = tail.next();
    await host.disconnect();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(await handle.exited).toMatchObject({ code: null });
    expect(isLive(child)).toBe(false);
  });
});
