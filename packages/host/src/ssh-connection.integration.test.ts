import { execFile } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { appendFile, readFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import type { ClientChannel } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { onChannelExit } from "./channel-exit.js";
import { ConnectionLostError, NotConnectedError, OptioConfigError } from "./errors.js";
import { sshConfigSchema, type SSHConfigInput } from "./ssh-config.js";
import { keyFingerprint, knownHostsPatternsMatch, parseKnownHosts, verifyAgainstKnownHosts } from "./known-hosts.js";
import { SshConnection } from "./ssh-connection.js";
import { startTestSshd, type TestSshd } from "./test-sshd.js";
import { withTimeout } from "./with-timeout.js";

const execFileAsync = promisify(execFile);

function connection(input: SSHConfigInput): SshConnection {
  return new SshConnection(sshConfigSchema.parse(input));
}

function output(channel: ClientChannel): Promise<{ stdout: string; code: number | null }> {
  return new Promise((resolve) => {
    let stdout = "";
    let code: number | null = null;
    channel.on("data", (d: Buffer) => (stdout += d.toString()));
    channel.stderr.resume();
    onChannelExit(channel, (exit) => (code = exit.code));
    channel.on("close", () => resolve({ stdout, code }));
  });
}

describe("known_hosts matching", () => {
  const key = Buffer.concat([
    Buffer.from([0, 0, 0, 11]),
    Buffer.from("ssh-ed25519"),
    Buffer.from([0, 0, 0, 32]),
    randomBytes(32),
  ]);
  const other = Buffer.concat([
    Buffer.from([0, 0, 0, 11]),
    Buffer.from("ssh-ed25519"),
    Buffer.from([0, 0, 0, 32]),
    randomBytes(32),
  ]);
  const b64 = key.toString("base64");

  it("matches plain names, [host]:port, comma lists, wildcards and negations", () => {
    expect(knownHostsPatternsMatch(["example.com"], "example.com")).toBe(true);
    expect(knownHostsPatternsMatch(["EXAMPLE.com"], "example.com")).toBe(true);
    expect(knownHostsPatternsMatch(["[10.0.0.1]:2222"], "[10.0.0.1]:2222")).toBe(true);
    expect(knownHostsPatternsMatch(["[10.0.0.1]:2222"], "10.0.0.1")).toBe(false);
    expect(knownHostsPatternsMatch(["a.org", "b.org"], "b.org")).toBe(true);
    expect(knownHostsPatternsMatch(["*.corp"], "db.corp")).toBe(true);
    expect(knownHostsPatternsMatch(["*.corp", "!secret.corp"], "secret.corp")).toBe(false);
    expect(knownHostsPatternsMatch(["h?st"], "host")).toBe(true);
    expect(knownHostsPatternsMatch(["a.b"], "axb")).toBe(false);
  });

  it("matches hashed |1|salt|hash entries", () => {
    const salt = randomBytes(20);
    const hash = createHmac("sha1", salt).update("[127.0.0.1]:2200").digest();
    const pattern = `|1|${salt.toString("base64")}|${hash.toString("base64")}`;
    expect(knownHostsPatternsMatch([pattern], "[127.0.0.1]:2200")).toBe(true);
    expect(knownHostsPatternsMatch([pattern], "[127.0.0.1]:2201")).toBe(false);
  });

  it("accepts the listed key, refuses another, a revoked one and an unknown host", () => {
    const entries = parseKnownHosts(
      [
        "# comment",
        "",
        `example.com,10.1.1.1 ssh-ed25519 ${b64} someone@somewhere`,
        `[example.com]:2222 ssh-ed25519 ${other.toString("base64")}`,
        `@cert-authority *.com ssh-ed25519 ${other.toString("base64")}`,
        `@revoked revoked.org ssh-ed25519 ${b64}`,
        `revoked.org ssh-ed25519 ${b64}`,
        "garbage line",
      ].join("\n"),
    );
    expect(entries).toHaveLength(5);
    expect(verifyAgainstKnownHosts(entries, "example.com", 22, key)).toEqual({ ok: true });
    expect(verifyAgainstKnownHosts(entries, "10.1.1.1", 22, key)).toEqual({ ok: true });
    expect(verifyAgainstKnownHosts(entries, "example.com", 2222, key)).toEqual({
      ok: false,
      expected: [keyFingerprint(other)],
    });
    expect(verifyAgainstKnownHosts(entries, "example.com", 22, other)).toEqual({
      ok: false,
      expected: [keyFingerprint(key)],
    });
    expect(verifyAgainstKnownHosts(entries, "revoked.org", 22, key).ok).toBe(false);
    expect(verifyAgainstKnownHosts(entries, "nowhere.net", 22, key)).toEqual({ ok: false, expected: [] });
  });

  it("compares the key type as well as the blob", () => {
    const entries = parseKnownHosts(`example.com ssh-rsa ${b64}`);
    expect(verifyAgainstKnownHosts(entries, "example.com", 22, key).ok).toBe(false);
  });
});

describe("SshConnection over a real sshd", () => {
  let sshd: TestSshd;
  const open: SshConnection[] = [];
  const make = (overrides: Partial<SSHConfigInput> = {}) => {
    const conn = connection(sshd.sshConfig(overrides));
    open.push(conn);
    return conn;
  };

  beforeAll(async () => {
    sshd = await startTestSshd();
  });

  afterAll(async () => {
    for (const conn of open) await conn.end();
    await sshd?.stop();
  });

  it("computes the host fingerprint as ssh-keygen prints it", async () => {
    const { stdout } = await execFileAsync("ssh-keygen", ["-l", "-E", "sha256", "-f", sshd.knownHostsFile]);
    expect(stdout).toContain(sshd.hostFingerprint);
    const conn = make({ knownHostsFile: undefined, hostFingerprint: sshd.hostFingerprint });
    await conn.connect();
    expect(conn.isReady).toBe(true);
  });

  it("multiplexes many exec channels, one SFTP session and a forward over one connection", async () => {
    const conn = make();
    await expect(conn.exec("true")).rejects.toBeInstanceOf(NotConnectedError);
    await conn.connect();
    await conn.connect();
    const results = await Promise.all(Array.from({ length: 30 }, async (_, i) => output(await conn.exec(`echo ${i}`))));
    expect(results.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 30 }, (_, i) => String(i)));
    expect(results.map((r) => r.code)).toEqual(results.map(() => 0));
    const [a, b] = await Promise.all([conn.sftp(), conn.sftp()]);
    expect(a).toBe(b);
    const names = await new Promise<string[]>((resolve, reject) =>
      a.readdir(sshd.dir, (err, list) => (err ? reject(err) : resolve(list.map((e) => e.filename)))),
    );
    expect(names).toContain("sshd_config");

    const echo = net.createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
    try {
      const channel = await conn.forwardOut("127.0.0.1", (echo.address() as net.AddressInfo).port);
      const back = new Promise<string>((resolve) => channel.once("data", (d: Buffer) => resolve(d.toString())));
      channel.write("ping");
      expect(await withTimeout("the echo", back)).toBe("ping");
      channel.close();
    } finally {
      echo.close();
    }
  });

  it("authenticates with a passphrase-protected inline key and names a wrong passphrase as a config error", async () => {
    const keyFile = path.join(sshd.dir, "with_passphrase");
    await execFileAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "s3cret", "-f", keyFile]);
    await appendFile(path.join(sshd.dir, "authorized_keys"), await readFile(`${keyFile}.pub`, "utf8"));
    const privateKey = await readFile(keyFile, "utf8");
    const good = make({ identityFile: undefined, privateKey, passphrase: "s3cret" });
    await good.connect();
    expect((await output(await good.exec("echo hi"))).stdout).toBe("hi\n");
    const error = await make({ identityFile: undefined, privateKey, passphrase: "wrong" })
      .connect()
      .catch((e: unknown) => e);
    expect(OptioConfigError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain("ssh.passphrase");
  });

  it("names a missing identity file", async () => {
    const error = await make({ identityFile: path.join(sshd.dir, "nope") })
      .connect()
      .catch((e: unknown) => e);
    expect(OptioConfigError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain("ssh.identityFile");
  });

  it("ends idempotently and fails what was in flight", async () => {
    const conn = make();
    await conn.connect();
    const channel = await conn.exec("sleep 30");
    const pending = conn.track<void>("waiting for sleep", (resolve) => channel.on("close", () => resolve()));
    await conn.end();
    await conn.end();
    await expect(withTimeout("the rejection", pending)).rejects.toMatchObject({ code: "connection_lost" });
    await expect(conn.sftp()).rejects.toBeInstanceOf(NotConnectedError);
  });
});

describe("SshConnection when sshd dies", () => {
  it("rejects every pending exec, SFTP read and forward with ConnectionLostError", async () => {
    const sshd = await startTestSshd();
    const conn = connection(sshd.sshConfig({ keepaliveIntervalMs: 1000 }));
    const server = net.createServer(() => {});
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      await conn.connect();
      const sftp = await conn.sftp();
      const channel = await conn.exec("sleep 30");
      const forward = await conn.forwardOut("127.0.0.1", (server.address() as net.AddressInfo).port);
      const execDone = conn.track<void>("sleep", (resolve) => channel.on("close", () => resolve()));
      const forwardDone = conn.track<void>("forward", (resolve) => forward.on("close", () => resolve()));
      // A read of a FIFO nobody writes stays pending until the connection goes.
      await output(await conn.exec(`mkfifo ${path.join(sshd.dir, "fifo")}`));
      const read = conn.track<Buffer>("reading a fifo", (resolve, reject) =>
        sftp.readFile(path.join(sshd.dir, "fifo"), (err, data) => (err ? reject(err) : resolve(data))),
      );
      const settled = Promise.all(
        [execDone, forwardDone, read].map((p) =>
          p.then(
            () => null,
            (e: unknown) => e,
          ),
        ),
      );
      await sshd.kill();
      const errors = await withTimeout("all three to fail", settled, 8000);
      for (const error of errors) expect(ConnectionLostError.isInstance(error)).toBe(true);
      expect(conn.isReady).toBe(false);
      await expect(conn.exec("true")).rejects.toMatchObject({ code: "connection_lost" });
      await conn.end();
    } finally {
      server.close();
      await sshd.stop();
    }
  });
});
