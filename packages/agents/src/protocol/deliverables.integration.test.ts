import { RemoteHost } from "@optio/host";
import { startTestSshd, type TestSshd } from "@optio/host/testing";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReportLevel } from "../spec/task-context.js";
import { createDeliverableQueue } from "./deliverables.js";
import { agentFileReadCases } from "./test-read-agent-file.js";
import { deliverableSwapRace } from "./test-swap-race.js";

describe("deliverables and readAgentFile over RemoteHost (real sshd)", () => {
  let sshd: TestSshd;
  let root: string;
  let host: RemoteHost;

  beforeAll(async () => {
    sshd = await startTestSshd();
    root = await mkdtemp(path.join(os.tmpdir(), "optio-deliverables-it-"));
    host = new RemoteHost({
      consumer: "optio-deliv-it",
      processId: "p1",
      ssh: sshd.sshConfig(),
      env: { OPTIO_DELIV_IT_REMOTE_TASK_ROOT: root },
    });
    await host.connect();
  });
  afterAll(async () => {
    await host?.disconnect();
    await sshd?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("delivers text, refuses one over maxBytes with that reason, and never blocks on a FIFO", async () => {
    await host.mkdir("deliverables");
    await host.writeText("deliverables/ok.md", "fine ✓");
    await host.writeText("deliverables/big.md", "x".repeat(33));
    await host.runChecked(`mkfifo ${host.workdir}/deliverables/pipe.md`);
    const delivered: Array<[string, string]> = [];
    const reports: string[] = [];
    const queue = createDeliverableQueue({
      host,
      maxBytes: 32,
      report: (_level: ReportLevel, message: string) => void reports.push(message),
      deliver: async (relative, text) => void delivered.push([relative, text]),
    });
    for (const name of ["pipe.md", "big.md", "ok.md"]) await queue.push(`deliverables/${name}`);
    await queue.drain();
    expect(delivered).toEqual([["ok.md", "fine ✓"]]);
    expect(reports).toEqual([
      expect.stringMatching(/pipe\.md" skipped: .*not a regular file/),
      expect.stringMatching(/big\.md" skipped: it is 33 bytes, over the limit of 32 bytes/),
    ]);
  });

  it("never delivers outside content nor blocks while the agent swaps a directory for a link and a file for a FIFO in a loop", async () => {
    await deliverableSwapRace(host, 60, 120_000);
  }, 150_000);

  it("reads agent files inside the workdir and refuses links, FIFOs, devices and files over the cap, without blocking", async () => {
    await agentFileReadCases(host);
  });
});
