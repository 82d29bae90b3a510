import { execFile, spawn } from "node:child_process";
import { appendFile, mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHost } from "./create-host.js";
import { ConnectionLostError, NotConnectedError, OptioConfigError } from "./errors.js";
import { hostContractSuite } from "./host-contract-suite.js";
import { LocalHost } from "./local-host.js";
import { RemoteHost } from "./remote-host.js";
import { startTestSshd, type TestSshd } from "./test-sshd.js";
import { withTimeout } from "./with-timeout.js";

const execFileAsync = promisify(execFile);

hostContractSuite("RemoteHost", async () => {
  const sshd = await startTestSshd();
  const root = await mkdtemp(path.join(os.tmpdir(), "optio-remote-root-"));
  return {
    host: new RemoteHost({
      consumer: "contract-test",
      processId: "suite-1",
      ssh: sshd.sshConfig(),
      env: { CONTRACT_TEST_REMOTE_TASK_ROOT: root },
    }),
    cleanup: async () => {
      await sshd.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
});

describe("RemoteHost over a real sshd", () => {
  let sshd: TestSshd;
  let root: string;
  const hosts: RemoteHost[] = [];
  const make = (overrides: Parameters<TestSshd["sshConfig"]>[0] = {}, processId = "p1") => {
    const host = new RemoteHost({
      consumer: "remote-test",
      processId,
      ssh: sshd.sshConfig(overrides),
      env: { REMOTE_TEST_REMOTE_TASK_ROOT: root },
    });
    hosts.push(host);
    return host;
  };

  beforeAll(async () => {
    sshd = await startTestSshd();
    root = await mkdtemp(path.join(os.tmpdir(), "optio-remote-"));
  });

  afterAll(async () => {
    for (const host of hosts) await host.disconnect().catch(() => {});
    await sshd?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it("puts the task dir under /tmp/<consumer> when no root is set", () => {
    const host = new RemoteHost({ consumer: "claudecode", processId: "abc", ssh: sshd.sshConfig(), env: {} });
    expect(host.taskDir).toBe("/tmp/claudecode/abc");
    expect(host.workdir).toBe("/tmp/claudecode/abc/workdir");
    expect(host.kind).toBe("remote");
  });

  it("names the bad field of an invalid ssh config when connecting, before any traffic", async () => {
    const host = new RemoteHost({ consumer: "c", processId: "p", ssh: { ...sshd.sshConfig(), port: 70_000 } });
    const error = await host.connect().then(
      () => null,
      (e: unknown) => e,
    );
    expect(OptioConfigError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain("ssh.port");
    await expect(host.runCommand("true")).rejects.toSatisfy((e: unknown) => NotConnectedError.isInstance(e));
    await host.disconnect();
  });

  it("createHost picks RemoteHost with ssh and LocalHost without", () => {
    expect(createHost({ consumer: "c", processId: "p", ssh: sshd.sshConfig() })).toBeInstanceOf(RemoteHost);
    expect(createHost({ consumer: "c", processId: "p", env: { C_TASK_ROOT: root } })).toBeInstanceOf(LocalHost);
  });

  it("refuses a closed port with ConnectionRefusedError", async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, "127.0.0.1", () => {
        const port = (server.address() as net.AddressInfo).port;
        server.close(() => resolve(port));
      });
    });
    await expect(make({ port: closed }).connect()).rejects.toMatchObject({ code: "connection_refused" });
  });

  it("fails a key the server does not accept with AuthenticationError", async () => {
    await expect(make({ identityFile: sshd.wrongIdentityFile }).connect()).rejects.toMatchObject({
      code: "authentication_failed",
    });
  });

  it("fails a wrong pinned fingerprint with HostKeyMismatchError naming both fingerprints", async () => {
    const wrong = `SHA256:${"A".repeat(43)}`;
    const error = await make({ knownHostsFile: undefined, hostFingerprint: wrong })
      .connect()
      .catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe("host_key_mismatch");
    expect((error as Error).message).toContain(wrong);
    expect((error as Error).message).toContain(sshd.hostFingerprint);
    expect((error as Error).message).toContain("127.0.0.1");
  });

  it("fails a known_hosts file holding another key with HostKeyMismatchError", async () => {
    const other = path.join(root, "other_known_hosts");
    const pub = (await execFileAsync("ssh-keygen", ["-y", "-f", sshd.wrongIdentityFile])).stdout.trim().split(/\s+/);
    await appendFile(other, `[127.0.0.1]:${sshd.port} ${pub[0]} ${pub[1]}\n`);
    await expect(make({ knownHostsFile: other }).connect()).rejects.toMatchObject({ code: "host_key_mismatch" });
  });

  it("accepts a hashed known_hosts entry and a pinned fingerprint", async () => {
    const hashed = path.join(root, "hashed_known_hosts");
    await execFileAsync("cp", [sshd.knownHostsFile, hashed]);
    await execFileAsync("ssh-keygen", ["-H", "-f", hashed]);
    const host = make({ knownHostsFile: hashed }, "hashed");
    await host.connect();
    expect((await host.runChecked("echo ok")).stdout).toBe("ok\n");
    const pinned = make({ knownHostsFile: undefined, hostFingerprint: sshd.hostFingerprint }, "pinned");
    await pinned.connect();
    expect((await pinned.runChecked("echo pinned")).stdout).toBe("pinned\n");
  });

  it("refuses to connect without a way to verify the host key", async () => {
    const error = await make({ knownHostsFile: undefined })
      .connect()
      .catch((e: unknown) => e);
    expect(OptioConfigError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/knownHostsFile.*hostFingerprint/);
  });

  it("connects with insecureAcceptAnyHostKey", async () => {
    const host = make({ knownHostsFile: undefined, insecureAcceptAnyHostKey: true }, "insecure");
    await host.connect();
    expect((await host.runChecked("printf %s yes")).stdout).toBe("yes");
  });

  it("authenticates with an inline private key", async () => {
    const host = make({ identityFile: undefined, privateKey: sshd.privateKey }, "inline");
    await host.connect();
    expect((await host.runChecked("id -un")).stdout.trim()).toBe(sshd.username);
  });

  it("authenticates through ssh-agent", async () => {
    const socket = path.join(root, "agent.sock");
    const agent = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
    try {
      const deadline = Date.now() + 10_000;
      while (
        !(await execFileAsync("test", ["-S", socket]).then(
          () => true,
          () => false,
        ))
      ) {
        if (Date.now() > deadline) throw new Error("ssh-agent did not create its socket");
        await new Promise((r) => setTimeout(r, 20));
      }
      await execFileAsync("ssh-add", [sshd.identityFile], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
      const host = make({ identityFile: undefined, agent: socket }, "agent");
      await host.connect();
      expect((await host.runChecked("echo agent")).stdout).toBe("agent\n");
      await host.disconnect();
    } finally {
      agent.kill("SIGTERM");
    }
  });

  it("carries an HTTP request through a tunnel", async () => {
    const server = http.createServer((req, res) => res.end(`hello ${req.url}`));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const remotePort = (server.address() as net.AddressInfo).port;
    const host = make({}, "tunnel");
    await host.connect();
    try {
      const tunnel = await host.openTunnel(remotePort);
      expect(tunnel.port).not.toBe(remotePort);
      const body = await withTimeout(
        "the response",
        new Promise<string>((resolve, reject) => {
          http
            .get({ host: "127.0.0.1", port: tunnel.port, path: "/via-ssh", agent: false }, (res) => {
              let text = "";
              res.setEncoding("utf8");
              res.on("data", (d: string) => (text += d));
              res.on("end", () => resolve(text));
            })
            .on("error", reject);
        }),
      );
      expect(body).toBe("hello /via-ssh");
      await tunnel.close();
      await tunnel.close();
      await expect(
        new Promise((resolve, reject) =>
          net.connect(tunnel.port, "127.0.0.1").once("connect", resolve).once("error", reject),
        ),
      ).rejects.toMatchObject({ code: "ECONNREFUSED" });
    } finally {
      server.close();
    }
  });

  it("disconnects idempotently; later calls throw NotConnectedError", async () => {
    const host = make({}, "idem");
    await host.connect();
    const controller = new AbortController();
    const tail = host.tailFile("never.log", { signal: controller.signal })[Symbol.asyncIterator]();
    const pending = tail.next();
    await host.disconnect();
    await host.disconnect();
    expect(await withTimeout("the tail to end", pending)).toEqual({ done: true, value: undefined });
    await expect(host.runCommand("true")).rejects.toBeInstanceOf(NotConnectedError);
    expect(() => host.tailFile("x")).toThrow(NotConnectedError);
    await expect(host.readFile("x")).rejects.toBeInstanceOf(NotConnectedError);
  });

  it("reports the command's own pid as a process group leader", async () => {
    const host = make({}, "pgid");
    await host.connect();
    const handle = await host.spawn("ps -o pgid= -p $$; echo $$; sleep 0.1");
    const lines = (
      await withTimeout(
        "output",
        new Promise<string>((resolve) => {
          let text = "";
          handle.stdout.on("data", (d: Buffer) => (text += d.toString()));
          handle.stdout.on("end", () => resolve(text));
        }),
      )
    )
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)
      .map(Number);
    expect(lines).toEqual([handle.pid, handle.pid]);
  });
});

describe("RemoteHost when sshd dies", () => {
  it("fails a running command and an active tail with ConnectionLostError", async () => {
    const sshd = await startTestSshd();
    const root = await mkdtemp(path.join(os.tmpdir(), "optio-remote-kill-"));
    const host = new RemoteHost({
      consumer: "kill-test",
      processId: "k",
      ssh: sshd.sshConfig({ keepaliveIntervalMs: 1000 }),
      env: { KILL_TEST_REMOTE_TASK_ROOT: root },
    });
    try {
      await host.connect();
      await host.writeText("log.txt", "first\n");
      const tail = host.tailFile("log.txt")[Symbol.asyncIterator]();
      expect((await withTimeout("the first line", tail.next())).value).toBe("first");
      const pendingLine = tail.next().then(
        () => null,
        (e: unknown) => e,
      );
      const running = host.runCommand("echo started > started.txt; sleep 30").then(
        () => null,
        (e: unknown) => e,
      );
      const deadline = Date.now() + 10_000;
      while (!(await host.stat("started.txt"))) {
        if (Date.now() > deadline) throw new Error("the command did not start");
        await new Promise((r) => setTimeout(r, 20));
      }
      const killedAt = Date.now();
      await sshd.kill();
      const [commandError, tailError] = await withTimeout("both to fail", Promise.all([running, pendingLine]), 8000);
      expect(commandError).toMatchObject({ code: ConnectionLostError.code });
      expect(tailError).toMatchObject({ code: ConnectionLostError.code });
      expect(Date.now() - killedAt).toBeLessThan(8000);
      await expect(host.runCommand("true")).rejects.toMatchObject({ code: "connection_lost" });
      await host.disconnect();
    } finally {
      await sshd.stop();
      await rm(root, { recursive: true, force: true });
    }
  });
});
