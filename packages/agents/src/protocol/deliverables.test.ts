import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rename, rm, symlink, unlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type Host, LocalHost } from "@optio/host";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ReportLevel } from "../spec/task-context.js";
import { createDeliverableQueue, resolveDeliverablePath } from "./deliverables.js";
import { agentFileReadCases } from "./test-read-agent-file.js";
import { deliverableSwapRace } from "./test-swap-race.js";

let root: string;
let host: LocalHost;
let deliverables: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "optio-deliverables-"));
  host = new LocalHost({ consumer: "delivtest", processId: "p1", env: { DELIVTEST_TASK_ROOT: root } });
  await host.connect();
  deliverables = path.join(host.workdir, "deliverables");
  await mkdir(deliverables);
});

afterEach(async () => {
  await host.disconnect();
  await rm(root, { recursive: true, force: true });
});

function collectReports() {
  const reports: Array<{ level: ReportLevel; message: string }> = [];
  return { reports, report: (level: ReportLevel, message: string) => void reports.push({ level, message }) };
}

/** Lets every queued microtask and pending I/O callback run once. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("resolveDeliverablePath", () => {
  it("accepts a file under deliverables/ by workdir-relative or absolute path", async () => {
    await mkdir(path.join(deliverables, "sub"));
    await writeFile(path.join(deliverables, "sub", "a.md"), "a");
    const real = await host.realpath(path.join(deliverables, "sub", "a.md"));
    const realWorkdir = await host.realpath(host.workdir);
    expect(await resolveDeliverablePath(host, "deliverables/sub/a.md")).toEqual({
      ok: true,
      absolute: real,
      relative: "sub/a.md",
      realWorkdir,
    });
    expect(await resolveDeliverablePath(host, ` ${path.join(deliverables, "sub", "a.md")} `)).toEqual({
      ok: true,
      absolute: real,
      relative: "sub/a.md",
      realWorkdir,
    });
    expect(await resolveDeliverablePath(host, "./deliverables/x/../sub/a.md")).toMatchObject({
      ok: true,
      relative: "sub/a.md",
    });
  });

  it("follows a symlink that stays inside deliverables/", async () => {
    await writeFile(path.join(deliverables, "target.md"), "t");
    await symlink("target.md", path.join(deliverables, "link.md"));
    expect(await resolveDeliverablePath(host, "deliverables/link.md")).toMatchObject({
      ok: true,
      relative: "target.md",
    });
  });

  it.each([
    ["../x", /not inside deliverables/],
    ["deliverables/../../x", /not inside deliverables/],
    ["x.md", /not inside deliverables/],
    ["deliverables", /not inside deliverables/],
    ["deliverables/", /not inside deliverables/],
    ["/etc/passwd", /not inside deliverables/],
    ["deliverables/missing.md", /does not exist/],
    ["", /empty/],
    ["deliverables/a\0b", /NUL/],
  ])("refuses %j", async (raw, reason) => {
    await writeFile(path.join(host.taskDir, "x"), "outside the workdir");
    await writeFile(path.join(host.workdir, "x.md"), "outside deliverables");
    const result = await resolveDeliverablePath(host, raw);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(reason);
  });

  it("refuses a symlink that points out of deliverables/", async () => {
    await writeFile(path.join(host.workdir, "secret.txt"), "secret");
    await symlink(path.join(host.workdir, "secret.txt"), path.join(deliverables, "escape.md"));
    await symlink("/etc", path.join(deliverables, "etc"));
    const viaFile = await resolveDeliverablePath(host, "deliverables/escape.md");
    expect(viaFile).toMatchObject({ ok: false });
    expect(!viaFile.ok && viaFile.reason).toMatch(/not inside deliverables/);
    expect(await resolveDeliverablePath(host, "deliverables/etc/passwd")).toMatchObject({ ok: false });
  });

  it("refuses a directory and a missing deliverables/ dir", async () => {
    await mkdir(path.join(deliverables, "dir"));
    expect(await resolveDeliverablePath(host, "deliverables/dir")).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not a regular file/),
    });
    await rm(deliverables, { recursive: true });
    expect(await resolveDeliverablePath(host, "deliverables/a.md")).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no deliverables/),
    });
  });

  it("refuses everything when deliverables/ itself is a symlink out of the workdir", async () => {
    const outside = path.join(root, "outside");
    await mkdir(outside);
    await writeFile(path.join(outside, "f.md"), "f");
    await rm(deliverables, { recursive: true });
    await symlink(outside, deliverables);
    for (const raw of ["deliverables/f.md", path.join(outside, "f.md")]) {
      const result = await resolveDeliverablePath(host, raw);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.reason).toMatch(/outside the workdir/);
    }
  });
});

describe("createDeliverableQueue", () => {
  it("delivers in order, skipping and reporting bad items, and goes on after a throwing callback", async () => {
    await writeFile(path.join(deliverables, "one.md"), "first ✓");
    await writeFile(path.join(deliverables, "bin.dat"), Buffer.from([0x66, 0xff, 0xfe, 0x00]));
    await writeFile(path.join(deliverables, "boom.md"), "boom");
    await writeFile(path.join(deliverables, "gone.md"), "gone soon");
    await writeFile(path.join(deliverables, "two.md"), "second");
    await writeFile(path.join(host.workdir, "secret.txt"), "secret");
    await symlink(path.join(host.workdir, "secret.txt"), path.join(deliverables, "escape.md"));

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const delivered: Array<[string, string]> = [];
    const { reports, report } = collectReports();
    const queue = createDeliverableQueue({
      host,
      report,
      deliver: async (relative, text) => {
        if (relative === "one.md") await gate;
        if (relative === "boom.md") throw new Error("callback exploded");
        delivered.push([relative, text]);
      },
    });
    for (const raw of [
      "deliverables/one.md",
      "../x",
      "/etc/passwd",
      "deliverables/escape.md",
      "deliverables/bin.dat",
      "deliverables/boom.md",
      "deliverables/gone.md",
      "deliverables/two.md",
    ]) {
      await queue.push(raw);
    }
    // one.md is held at the gate; gone.md disappears before its turn comes.
    await unlink(path.join(deliverables, "gone.md"));
    release();
    await queue.drain();

    expect(delivered).toEqual([
      ["one.md", "first ✓"],
      ["two.md", "second"],
    ]);
    expect(reports.map((r) => r.message)).toEqual([
      expect.stringMatching(/"\.\.\/x" skipped: .*not inside deliverables/),
      expect.stringMatching(/"\/etc\/passwd" skipped: .*not inside deliverables/),
      expect.stringMatching(/"deliverables\/escape\.md" skipped: .*not inside deliverables/),
      expect.stringMatching(/"deliverables\/bin\.dat" skipped: it is not UTF-8 text/),
      expect.stringMatching(/"deliverables\/boom\.md": the callback failed: callback exploded/),
      expect.stringMatching(/"deliverables\/gone\.md" skipped: .*does not exist/),
    ]);
    expect(reports.map((r) => r.level)).toEqual(["warn", "warn", "warn", "warn", "error", "warn"]);
  });

  it("accepts more than the capacity, delivering all in order with bounded backpressure", async () => {
    const count = 200;
    for (let i = 0; i < count; i++) await writeFile(path.join(deliverables, `f${i}.txt`), `body ${i}`);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const delivered: string[] = [];
    const queue = createDeliverableQueue({
      host,
      capacity: 64,
      report: () => {},
      deliver: async (relative, text) => {
        await gate;
        expect(text).toBe(`body ${relative.slice(1, -4)}`);
        delivered.push(relative);
      },
    });

    const accepted: boolean[] = Array.from({ length: count }, () => false);
    const pushes = Array.from({ length: count }, (_, i) =>
      queue.push(`deliverables/f${i}.txt`).then(() => void (accepted[i] = true)),
    );
    await settle();
    await settle();
    // One item in flight at the gate plus 64 pending; the rest wait in push.
    expect(accepted.filter(Boolean).length).toBe(65);
    expect(accepted.slice(0, 65).every(Boolean)).toBe(true);

    const drained = queue.drain().then(() => "drained");
    release();
    await Promise.all(pushes);
    expect(await drained).toBe("drained");
    expect(delivered).toEqual(Array.from({ length: count }, (_, i) => `f${i}.txt`));
  });

  it("refuses a deliverable over maxBytes with that reason, and delivers one at the limit", async () => {
    await writeFile(path.join(deliverables, "big.md"), "x".repeat(11));
    await writeFile(path.join(deliverables, "fits.md"), "y".repeat(10));
    const delivered: string[] = [];
    const { reports, report } = collectReports();
    const queue = createDeliverableQueue({
      host,
      report,
      maxBytes: 10,
      deliver: async (relative) => void delivered.push(relative),
    });
    await queue.push("deliverables/big.md");
    await queue.push("deliverables/fits.md");
    await queue.drain();
    expect(delivered).toEqual(["fits.md"]);
    expect(reports.map((r) => r.message)).toEqual([
      expect.stringMatching(/big\.md" skipped: it is 11 bytes, over the limit of 10 bytes/),
    ]);
  });

  /** The host, with `swap` run right after the check of the path's last step: what an agent racing the worker could do. */
  function swappingAfterCheck(swap: () => Promise<void>): Host {
    return new Proxy(host, {
      get(target, key, receiver) {
        if (key === "stat") {
          return async (p: string) => {
            const result = await target.stat(p);
            await swap();
            return result;
          };
        }
        const value = Reflect.get(target, key, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }

  it("reads nothing from outside when a directory is swapped for a symlink after the check", async () => {
    const outside = path.join(root, "outside");
    await mkdir(outside);
    await writeFile(path.join(outside, "r.md"), "secret from outside");
    await mkdir(path.join(deliverables, "sub"));
    await writeFile(path.join(deliverables, "sub", "r.md"), "inside");
    const swapped = swappingAfterCheck(async () => {
      await rename(path.join(deliverables, "sub"), path.join(deliverables, "sub-old"));
      await symlink(outside, path.join(deliverables, "sub"));
    });
    const delivered: string[] = [];
    const { reports, report } = collectReports();
    const queue = createDeliverableQueue({
      host: swapped,
      report,
      deliver: async (_relative, text) => void delivered.push(text),
    });
    await queue.push("deliverables/sub/r.md");
    await queue.drain();
    expect(delivered).toEqual([]);
    expect(reports.map((r) => r.message)).toEqual([
      expect.stringMatching(/sub\/r\.md" skipped: sub is not a directory/),
    ]);
  });

  it("does not block on a FIFO swapped in for the file after the check", async () => {
    const file = path.join(deliverables, "pipe.md");
    await writeFile(file, "regular at check time");
    const swapped = swappingAfterCheck(async () => {
      await unlink(file);
      execFileSync("mkfifo", [file]);
    });
    const { reports, report } = collectReports();
    const queue = createDeliverableQueue({ host: swapped, report, deliver: async () => {} });
    await queue.push("deliverables/pipe.md");
    await queue.drain();
    expect(reports.map((r) => r.message)).toEqual([
      expect.stringMatching(/pipe\.md" skipped: it is not a regular file/),
    ]);
  });

  it("drain waits for what was pushed before it and resolves at once when idle", async () => {
    await writeFile(path.join(deliverables, "a.md"), "a");
    const delivered: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const queue = createDeliverableQueue({
      host,
      report: () => {},
      deliver: async (relative) => {
        await gate;
        delivered.push(relative);
      },
    });
    await queue.drain();
    await queue.push("deliverables/a.md");
    let drained = false;
    const draining = queue.drain().then(() => void (drained = true));
    await settle();
    await settle();
    expect(drained).toBe(false);
    release();
    await draining;
    expect(delivered).toEqual(["a.md"]);
  });

  it("keeps going when the reporter itself throws", async () => {
    await writeFile(path.join(deliverables, "ok.md"), "ok");
    const delivered: string[] = [];
    const queue = createDeliverableQueue({
      host,
      report: () => {
        throw new Error("reporter broke");
      },
      deliver: async (relative) => void delivered.push(relative),
    });
    await queue.push("../nope");
    await queue.push("deliverables/ok.md");
    await queue.drain();
    expect(delivered).toEqual(["ok.md"]);
  });

  it("rejects a capacity that is not a positive integer", () => {
    expect(() => createDeliverableQueue({ host, capacity: 0, report: () => {}, deliver: async () => {} })).toThrow(
      RangeError,
    );
  });
});

describe("deliverables read while the agent swaps", () => {
  it("never delivers outside content nor blocks while the agent swaps a directory for a link and a file for a FIFO in a loop", async () => {
    await deliverableSwapRace(host, 150, 60_000);
  }, 90_000);
});

describe("readAgentFile over LocalHost", () => {
  it("reads files inside the workdir and refuses links, FIFOs, devices and files over the cap, without blocking", async () => {
    await agentFileReadCases(host);
  });
});
