import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { RemoteHost } from "@optio/host";
import { startTestSshd, type TestSshd } from "@optio/host/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import { agentFileReadCases } from "./read-agent-file-test-support.js";

describe("readAgentFile over RemoteHost (real sshd)", () => {
  let sshd: TestSshd;
  let root: string;
  let host: RemoteHost;
  beforeAll(async () => {
    sshd = await startTestSshd();
    root = await mkdtemp(path.join(os.tmpdir(), "optio-agent-file-it-"));
    host = new RemoteHost({ consumer: "optio-agentfile-it", processId: "p1", ssh: sshd.sshConfig(), env: { OPTIO_AGENTFILE_IT_REMOTE_TASK_ROOT: root } });
    await host.connect();
  });
  afterAll(async () => {
    await host?.disconnect();
    await sshd?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("reads regular files inside the workdir and refuses links, FIFOs, devices and files over the cap, without blocking", async () => {
    await agentFileReadCases(host);
  });
});
