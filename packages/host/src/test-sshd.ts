import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { SSHConfigInput } from "./ssh-config.js";

const execFileAsync = promisify(execFile);

/** A private OpenSSH server on 127.0.0.1 for tests, with its own keys. */
export interface TestSshd {
  readonly host: "127.0.0.1";
  readonly port: number;
  /** The user the tests run as; the server logs it in with `identityFile`. */
  readonly username: string;
  /** A client key the server accepts. */
  readonly identityFile: string;
  /** The same key, as text. */
  readonly privateKey: string;
  /** A known_hosts file holding the server's host key for `[127.0.0.1]:port`. */
  readonly knownHostsFile: string;
  /** `SHA256:<base64>` of the server's host key. */
  readonly hostFingerprint: string;
  /** A client key the server does not accept. */
  readonly wrongIdentityFile: string;
  /** The server's log (`sshd -E`). */
  readonly logPath: string;
  /** The temp dir holding keys, config and log. */
  readonly dir: string;
  /**
   * The login's `$HOME`: an empty dir of the server's own, so sessions never
   * run the test user's dotfiles (a slow `~/.bashrc` stalls concurrent logins).
   * A test may write rc files here to play a host with heavy dotfiles.
   */
  readonly home: string;
  /** A config that logs in with `identityFile` and checks the host key against `knownHostsFile`. */
  sshConfig(overrides?: Partial<SSHConfigInput>): SSHConfigInput;
  /** Stops the server and every session it runs, then removes its temp dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILLs the listener and every session process under it, as a crash would. */
  kill(): Promise<void>;
}

const START_BOUND_MS = 10_000;
const PORT_ATTEMPTS = 5;

/** A port on 127.0.0.1 free at the moment of asking, for a test server to listen on. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

async function keygen(file: string, comment: string): Promise<void> {
  await execFileAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
}

/** `SHA256:<base64 without padding>` of the key blob in an OpenSSH public key line. */
function fingerprintOfPublicKey(line: string): string {
  const blob = line.trim().split(/\s+/)[1];
  if (!blob) throw new Error(`not a public key line: ${line}`);
  return `SHA256:${createHash("sha256").update(Buffer.from(blob, "base64")).digest("base64").replace(/=+$/, "")}`;
}

/** Every process under `root` (not `root` itself), parents before children. */
async function descendants(root: number): Promise<Array<{ pid: number; comm: string }>> {
  const { stdout } = await execFileAsync("ps", ["-e", "-o", "pid=,ppid=,comm="]);
  const children = new Map<number, Array<{ pid: number; comm: string }>>();
  for (const line of stdout.split("\n")) {
    const match = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const ppid = Number(match[2]);
    const list = children.get(ppid) ?? [];
    list.push({ pid: Number(match[1]), comm: (match[3] ?? "").trim() });
    children.set(ppid, list);
  }
  const out: Array<{ pid: number; comm: string }> = [];
  const queue = [root];
  while (queue.length > 0) {
    const p = queue.shift() as number;
    for (const c of children.get(p) ?? []) {
      out.push(c);
      queue.push(c.pid);
    }
  }
  return out;
}

/** True while `pid` exists and is not a zombie (a dead process nobody reaped yet). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

function exited(child: ChildProcess, boundMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, boundMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function waitListening(child: ChildProcess, port: number, logPath: string): Promise<void> {
  const deadline = Date.now() + START_BOUND_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = await readFile(logPath, "utf8").catch(() => "");
      throw new Error(`sshd exited (${child.exitCode ?? child.signalCode}) before listening:\n${log}`);
    }
    if (await canConnect(port)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`sshd did not listen on 127.0.0.1:${port} within ${START_BOUND_MS} ms`);
}

/**
 * Starts `/usr/sbin/sshd -D` on a free port of 127.0.0.1 with fresh ed25519
 * host and client keys in a temp dir. Needs root (or a user sshd may run as).
 * `maxSessions` lowers sshd's MaxSessions (channels per connection) from 100.
 */
export async function startTestSshd(options: { maxSessions?: number } = {}): Promise<TestSshd> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "optio-sshd-"));
  try {
    const hostKey = path.join(dir, "host_ed25519");
    const clientKey = path.join(dir, "client_ed25519");
    const wrongKey = path.join(dir, "wrong_ed25519");
    await Promise.all([
      keygen(hostKey, "optio-test-host"),
      keygen(clientKey, "optio-test-client"),
      keygen(wrongKey, "optio-test-wrong"),
    ]);
    const hostPub = await readFile(`${hostKey}.pub`, "utf8");
    const authorizedKeys = path.join(dir, "authorized_keys");
    await writeFile(authorizedKeys, await readFile(`${clientKey}.pub`, "utf8"), { mode: 0o600 });
    const privateKey = await readFile(clientKey, "utf8");
    const [keyType, keyBlob] = hostPub.trim().split(/\s+/);
    const logPath = path.join(dir, "sshd.log");
    const configPath = path.join(dir, "sshd_config");
    const knownHostsFile = path.join(dir, "known_hosts");
    const home = path.join(dir, "home");
    await mkdir(home, { mode: 0o700 });
    await mkdir("/run/sshd", { recursive: true });

    let child: ChildProcess | undefined;
    let port = 0;
    let lastError: unknown;
    for (let attempt = 0; attempt < PORT_ATTEMPTS && !child; attempt++) {
      port = await freePort();
      const config = [
        "ListenAddress 127.0.0.1",
        `Port ${port}`,
        `HostKey ${hostKey}`,
        `PidFile ${path.join(dir, "sshd.pid")}`,
        `AuthorizedKeysFile ${authorizedKeys}`,
        "UsePAM no",
        "PermitRootLogin prohibit-password",
        "StrictModes no",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "Subsystem sftp internal-sftp",
        `MaxSessions ${options.maxSessions ?? 100}`,
        // Applied after sshd sets HOME from the password entry, so login shells read their rc files from here.
        `SetEnv HOME=${home}`,
        "MaxStartups 100",
        "LogLevel VERBOSE",
        "",
      ].join("\n");
      await writeFile(configPath, config);
      await writeFile(logPath, "");
      const started = spawn("/usr/sbin/sshd", ["-D", "-f", configPath, "-E", logPath], { stdio: "ignore" });
      started.once("error", () => {});
      try {
        await waitListening(started, port, logPath);
        child = started;
      } catch (error) {
        lastError = error;
        signal(started.pid ?? 0, "SIGKILL");
        await exited(started, 2000);
      }
    }
    if (!child || child.pid === undefined)
      throw lastError instanceof Error ? lastError : new Error("sshd did not start");
    const listener = child;
    const listenerPid = child.pid;
    await writeFile(knownHostsFile, `[127.0.0.1]:${port} ${keyType} ${keyBlob}\n`);

    // sshd's own processes die first and are waited for, so none of them can
    // report a session command's death to the client before the connection drops.
    const killAll = async () => {
      const under = await descendants(listenerPid).catch(() => [] as Array<{ pid: number; comm: string }>);
      const daemons = under.filter((p) => p.comm.startsWith("sshd")).map((p) => p.pid);
      signal(listenerPid, "SIGKILL");
      for (const pid of daemons) signal(pid, "SIGKILL");
      const deadline = Date.now() + 5000;
      while (daemons.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      // What the sessions ran may still be in a login shell's rc files, and killed there it can leave
      // their locks behind (pyenv's rehash lock stalls every later login for a minute). With the
      // connections gone, a shell that was only waiting for input ends on its own; the rest get
      // SIGTERM, then SIGKILL.
      const rest = under.filter((p) => !daemons.includes(p.pid)).map((p) => p.pid);
      for (const [sig, graceMs] of [
        [null, 1500],
        ["SIGTERM", 2000],
      ] as const) {
        if (sig) for (const pid of rest) signal(pid, sig);
        const graceEnd = Date.now() + graceMs;
        while (rest.some(alive) && Date.now() < graceEnd) await new Promise((r) => setTimeout(r, 10));
      }
      for (const pid of rest) signal(pid, "SIGKILL");
      await exited(listener, 5000);
    };
    let stopped = false;
    const username = os.userInfo().username;
    return {
      host: "127.0.0.1",
      port,
      username,
      identityFile: clientKey,
      privateKey,
      knownHostsFile,
      hostFingerprint: fingerprintOfPublicKey(hostPub),
      wrongIdentityFile: wrongKey,
      logPath,
      dir,
      home,
      sshConfig: (overrides = {}) => ({
        host: "127.0.0.1",
        port,
        username,
        identityFile: clientKey,
        knownHostsFile,
        ...overrides,
      }),
      kill: killAll,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await killAll();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
