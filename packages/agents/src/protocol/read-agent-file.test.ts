import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { LocalHost } from "@optio/host";
import { afterAll, beforeAll, describe, it } from "vitest";
import { agentFileReadCases } from "./read-agent-file-test-support.js";

describe("readAgentFile over LocalHost", () => {
  let root: string;
  let host: LocalHost;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "optio-agent-file-"));
    host = new LocalHost({ consumer: "agentfile", processId: "p1", env: { AGENTFILE_TASK_ROOT: root } });
    await host.connect();
  });
  afterAll(async () => {
    await host?.disconnect();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("reads regular files inside the workdir and refuses links, FIFOs, devices and files over the cap, without blocking", async () => {
    await agentFileReadCases(host);
  });
});
