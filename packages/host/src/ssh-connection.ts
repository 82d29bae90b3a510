import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Client, ClientChannel, ConnectConfig, ExecOptions, SFTPWrapper } from "ssh2";
import {
  AuthenticationError,
  ConnectionLostError,
  ConnectionRefusedError,
  HostKeyMismatchError,
  NotConnectedError,
  OptioConfigError,
  OptioTimeoutError,
} from "./errors.js";
import { recordChannelExit } from "./channel-exit.js";
import type { SSHConfig } from "./ssh-config.js";
import { StandbyExec } from "./standby-exec.js";

type Ssh2 = typeof import("ssh2");
let ssh2Module: Promise<Ssh2> | null = null;

/**
 * ssh2, loaded on the first connect: it costs ~14 MB of memory, which a
 * process that never opens an SSH connection should not pay. It is
 * CommonJS, so Node's ESM loader hands it over as the default export.
 */
function loadSsh2(): Promise<Ssh2> {
  ssh2Module ??= import("ssh2").then((module) => module.default);
  return ssh2Module;
}

/** `SHA256:<base64 without padding>` of a raw SSH key blob, as `ssh-keygen -l` prints it. */
export function keyFingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** The key type named inside a raw SSH key blob (`ssh-ed25519`, …). */
function blobKeyType(blob: Buffer): string {
  if (blob.length < 4) return "";
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString("latin1");
}

export interface KnownHostEntry {
  marker: "" | "@revoked" | "@cert-authority";
  patterns: string[];
  keyType: string;
  key: Buffer;
}

/** Parses OpenSSH known_hosts text; lines it cannot read are skipped, as ssh does. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry["marker"] = "";
    if (fields[0] === "@revoked" || fields[0] === "@cert-authority") marker = fields.shift() as KnownHostEntry["marker"];
    const [hosts, keyType, keyBase64] = fields;
    if (!hosts || !keyType || !keyBase64 || !/^[A-Za-z0-9+/]+=*$/.test(keyBase64)) continue;
    entries.push({ marker, patterns: hosts.split(","), keyType, key: Buffer.from(keyBase64, "base64") });
  }
  return entries;
}

function globMatch(pattern: string, name: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${re}$`, "i").test(name);
}

function hashedMatch(pattern: string, name: string): boolean {
  const parts = pattern.split("|");
  if (parts.length !== 4 || parts[1] !== "1" || !parts[2] || !parts[3]) return false;
  const salt = Buffer.from(parts[2], "base64");
  const expected = Buffer.from(parts[3], "base64");
  const actual = createHmac("sha1", salt).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The name ssh looks a host up under: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Whether a known_hosts pattern list (comma-separated parts, `!` negations, hashes, wildcards) names `name`. */
export function knownHostsPatternsMatch(patterns: readonly string[], name: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith("!");
    const p = negated ? pattern.slice(1) : pattern;
    const hit = p.startsWith("|") ? hashedMatch(p, name) : globMatch(p, name);
    if (hit && negated) return false;
    if (hit) matched = true;
  }
  return matched;
}

type Verdict = { ok: true } | { ok: false; expected: string[] };

/** Checks a presented host key against known_hosts entries for `host:port`. */
export function verifyAgainstKnownHosts(entries: readonly KnownHostEntry[], host: string, port: number, key: Buffer): Verdict {
  const name = knownHostsName(host, port);
  const type = blobKeyType(key);
  const mine = entries.filter((e) => e.marker !== "@cert-authority" && knownHostsPatternsMatch(e.patterns, name));
  const same = (e: KnownHostEntry) => e.keyType === type && e.key.equals(key);
  if (mine.some((e) => e.marker === "@revoked" && same(e))) return { ok: false, expected: [] };
  if (mine.some((e) => e.marker === "" && same(e))) return { ok: true };
  return { ok: false, expected: mine.filter((e) => e.marker === "").map((e) => keyFingerprint(e.key)) };
}

/** What to do when the connection goes away under an in-flight operation. */
export type LostListener = (error: ConnectionLostError | NotConnectedError) => void;

const KEEPALIVE_COUNT_MAX = 3;
/**
 * Exec standbys kept per connection: a session's start runs three commands
 * (readying the host, probing the agent, starting tmux) before its first
 * screen, and all three find a shell that logged in when the connection opened.
 */
const EXEC_STANDBYS = 3;
/** The terminal type of a pre-opened PTY; a PTY asked for with another type opens its own channel. */
const STANDBY_PTY_TERM = "xterm-256color";
/** Longest pause between attempts to open a channel once a standby's session has been given up. */
const RELEASE_RETRY_MAX_MS = 1600;

/** ssh2's error for a channel the server would not open (it carries the SSH reason code). */
function isChannelOpenFailure(error: unknown): boolean {
  return error instanceof Error && "reason" in error && error.message.startsWith("(SSH) Channel open failure");
}

interface HostCheck {
  verify(key: Buffer): boolean;
  /** Set when `verify` said no: why, for the error. */
  rejection: string | null;
}

/**
 * One SSH connection (ssh2 `Client`) shared by everything a RemoteHost does:
 * exec channels, one lazily opened SFTP session, forwards and PTY channels.
 * Every operation in flight is registered; when the connection closes or
 * fails they are all failed at once with ConnectionLostError.
 */
export class SshConnection {
  readonly config: SSHConfig;
  private client: Client | null = null;
  private state: "idle" | "connecting" | "ready" | "ending" | "closed" | "lost" = "idle";
  private readonly inFlight = new Set<LostListener>();
  private sftpSession: Promise<SFTPWrapper> | null = null;
  private lostError: ConnectionLostError | null = null;
  private closed: Promise<void> = Promise.resolve();
  /** Made by each connect; exec reaches it only once ready() has passed. */
  private standby!: StandbyExec;
  /** PTY channels opened ahead of a viewer, once preparePty() asked for them. */
  private ptyStandby: StandbyExec | null = null;

  constructor(config: SSHConfig) {
    this.config = config;
  }

  private get label(): string {
    return `${this.config.username}@${this.config.host}:${this.config.port}`;
  }

  get isReady(): boolean {
    return this.state === "ready";
  }

  /** Opens and authenticates the connection, verifying the host key. */
  async connect(): Promise<void> {
    if (this.state === "ready") return;
    if (this.state === "connecting" || this.state === "ending") throw new NotConnectedError(`ssh: ${this.label} is ${this.state}`);
    const config = this.config;
    const ssh2 = await loadSsh2();
    const auth = await this.authConfig(ssh2);
    const check = await this.hostCheck();
    this.state = "connecting";
    this.lostError = null;
    const client = new ssh2.Client();
    this.client = client;
    let markClosed!: () => void;
    this.closed = new Promise((resolve) => {
      markClosed = resolve;
    });
    try {
      await new Promise<void>((resolve, reject) => {
        let settled = false;
        const fail = (error: Error) => {
          if (settled) return;
          settled = true;
          client.end();
          reject(error);
        };
        client.once("ready", () => {
          if (settled) return;
          settled = true;
          resolve();
        });
        client.on("error", (error: Error & { level?: string; code?: string }) => {
          if (!settled) fail(this.connectError(error, check));
          else this.onLost(error);
        });
        client.on("close", () => {
          markClosed();
          if (!settled) fail(new ConnectionRefusedError(`ssh: ${this.label} closed the connection during the handshake`));
          else this.onLost(null);
        });
        const connectConfig: ConnectConfig = {
          host: config.host,
          port: config.port,
          username: config.username,
          readyTimeout: config.readyTimeoutMs,
          keepaliveInterval: config.keepaliveIntervalMs,
          keepaliveCountMax: KEEPALIVE_COUNT_MAX,
          hostVerifier: (key: Buffer) => check.verify(key),
          ...auth,
        };
        try {
          client.connect(connectConfig);
          // Without it Nagle holds each small request (channel open, exec, EOF)
          // until the server's delayed ACK: ~40 ms per round trip.
          client.setNoDelay(true);
        } catch (error) {
          fail(new OptioConfigError(`ssh: ${(error as Error).message}`, { cause: error }));
        }
      });
    } catch (error) {
      this.state = "closed";
      this.client = null;
      throw error;
    }
    this.state = "ready";
    // The first command after connecting is usually moments away: its login shell starts now.
    this.standby = new StandbyExec((command) => this.openExec(command, {}), { size: EXEC_STANDBYS });
    this.ptyStandby = null;
    // Asked for first, so a server with few sessions (MaxSessions) grants SFTP its own before the standbys take the rest.
    this.sftp().catch(() => {});
    this.standby.fill();
  }

  private async authConfig(ssh2: Ssh2): Promise<Partial<ConnectConfig>> {
    const { identityFile, passphrase, agent } = this.config;
    let privateKey = this.config.privateKey;
    let keyField = "ssh.privateKey";
    if (privateKey === undefined && identityFile !== undefined) {
      keyField = "ssh.identityFile";
      try {
        privateKey = await readFile(identityFile, "utf8");
      } catch (error) {
        throw new OptioConfigError(`ssh.identityFile cannot be read: ${identityFile} (${(error as NodeJS.ErrnoException).code ?? error})`, { cause: error });
      }
    }
    const out: Partial<ConnectConfig> = {};
    if (privateKey !== undefined) {
      const parsed = ssh2.utils.parseKey(privateKey, passphrase);
      if (parsed instanceof Error) {
        throw new OptioConfigError(`${keyField} is not a usable private key${passphrase === undefined ? "" : " (or ssh.passphrase is wrong)"}: ${parsed.message}`, { cause: parsed });
      }
      out.privateKey = privateKey;
      if (passphrase !== undefined) out.passphrase = passphrase;
    }
    const agentSocket = agent ?? (privateKey === undefined ? process.env.SSH_AUTH_SOCK : undefined);
    if (agentSocket) out.agent = agentSocket;
    if (out.privateKey === undefined && out.agent === undefined) {
      throw new OptioConfigError("ssh: no credentials: set ssh.identityFile, ssh.privateKey or ssh.agent (or SSH_AUTH_SOCK)");
    }
    return out;
  }

  private async hostCheck(): Promise<HostCheck> {
    const { knownHostsFile, hostFingerprint, insecureAcceptAnyHostKey, host, port } = this.config;
    const check: HostCheck = { rejection: null, verify: () => true };
    if (hostFingerprint !== undefined) {
      const expected = hostFingerprint.replace(/=+$/, "");
      check.verify = (key) => {
        const actual = keyFingerprint(key);
        if (actual === expected) return true;
        check.rejection = `expected ${expected}, got ${actual}`;
        return false;
      };
      return check;
    }
    if (knownHostsFile !== undefined) {
      let text: string;
      try {
        text = await readFile(knownHostsFile, "utf8");
      } catch (error) {
        throw new OptioConfigError(`ssh.knownHostsFile cannot be read: ${knownHostsFile} (${(error as NodeJS.ErrnoException).code ?? error})`, { cause: error });
      }
      const entries = parseKnownHosts(text);
      check.verify = (key) => {
        const verdict = verifyAgainstKnownHosts(entries, host, port, key);
        if (verdict.ok) return true;
        const actual = keyFingerprint(key);
        check.rejection =
          verdict.expected.length > 0
            ? `expected ${verdict.expected.join(" or ")} (from ${knownHostsFile}), got ${actual}`
            : `${knownHostsFile} has no usable key for ${knownHostsName(host, port)}; got ${actual}`;
        return false;
      };
      return check;
    }
    if (insecureAcceptAnyHostKey) return check;
    throw new OptioConfigError(
      "ssh: the host key cannot be verified: set ssh.knownHostsFile or ssh.hostFingerprint (or ssh.insecureAcceptAnyHostKey: true to skip the check)",
    );
  }

  private connectError(error: Error & { level?: string; code?: string }, check: HostCheck): Error {
    const { host, port } = this.config;
    if (check.rejection !== null) {
      return new HostKeyMismatchError(`ssh: host key of ${host}:${port} does not match: ${check.rejection}`, { cause: error });
    }
    if (error.code === "ECONNREFUSED") return new ConnectionRefusedError(`ssh: connection to ${host}:${port} refused`, { cause: error });
    if (error.level === "client-authentication" || error.level === "agent") {
      return new AuthenticationError(`ssh: ${this.label} rejected every credential offered: ${error.message}`, { cause: error });
    }
    if (error.level === "client-timeout") {
      return new OptioTimeoutError(`ssh: ${this.label} did not complete the handshake within ${this.config.readyTimeoutMs} ms`, { cause: error });
    }
    return new ConnectionRefusedError(`ssh: cannot connect to ${this.label}: ${error.message}`, { cause: error });
  }

  private onLost(cause: Error | null): void {
    if (this.state === "closed" || this.state === "lost") return;
    const ending = this.state === "ending";
    this.state = ending ? "closed" : "lost";
    const error = new ConnectionLostError(
      ending ? `ssh: ${this.label} was disconnected` : `ssh: connection to ${this.label} lost${cause ? `: ${cause.message}` : ""}`,
      cause ? { cause } : undefined,
    );
    this.lostError = error;
    this.sftpSession = null;
    const listeners = [...this.inFlight];
    this.inFlight.clear();
    for (const listener of listeners) listener(error);
  }

  /** The client, or NotConnectedError / ConnectionLostError. */
  private ready(): Client {
    if (this.state === "ready" && this.client) return this.client;
    if (this.state === "lost" && this.lostError) throw this.lostError;
    throw new NotConnectedError(`ssh: not connected to ${this.label} (call connect() first; disconnect() ends it)`);
  }

  /** The error the connection was lost with, once it has been lost or ended. */
  get failure(): ConnectionLostError | null {
    return this.lostError;
  }

  /** Throws unless the connection is ready. */
  assertReady(): void {
    this.ready();
  }

  /**
   * Registers a listener run once if the connection is lost while it is
   * registered; returns the function that unregisters it.
   */
  register(listener: LostListener): () => void {
    if (this.state !== "ready") {
      const error = this.lostError ?? new NotConnectedError(`ssh: not connected to ${this.label}`);
      queueMicrotask(() => listener(error));
      return () => {};
    }
    this.inFlight.add(listener);
    return () => {
      this.inFlight.delete(listener);
    };
  }

  /**
   * Runs an operation that settles through a callback, rejecting it with
   * ConnectionLostError if the connection goes first and with
   * OptioTimeoutError after `boundMs` (when given).
   */
  track<T>(what: string, start: (resolve: (value: T) => void, reject: (error: Error) => void) => void, boundMs?: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (fn: () => void) => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        unregister();
        fn();
      };
      const unregister = this.register((error) => finish(() => reject(error)));
      if (boundMs !== undefined) {
        timer = setTimeout(() => finish(() => reject(new OptioTimeoutError(`ssh: ${what} took longer than ${boundMs} ms`))), boundMs);
      }
      try {
        start(
          (value) => finish(() => resolve(value)),
          (error) => finish(() => reject(error)),
        );
      } catch (error) {
        finish(() => reject(error as Error));
      }
    });
  }

  /**
   * An exec channel running `command` (opening bounded by readyTimeoutMs).
   * A command without a PTY takes a standby channel when there is one; a
   * new standby is then opened for a later command.
   */
  async exec(command: string, options: ExecOptions = {}): Promise<ClientChannel> {
    this.ready();
    if (options.pty === undefined && options.env === undefined) {
      const channel = await this.standby.take(command);
      this.standby.fill();
      if (channel) return channel;
    }
    const pty = typeof options.pty === "object" ? options.pty : null;
    if (pty && this.ptyStandby && options.env === undefined && (pty.term ?? STANDBY_PTY_TERM) === STANDBY_PTY_TERM) {
      const channel = await this.ptyStandby.take(command);
      this.ptyStandby.fill();
      if (channel) {
        channel.setWindow(pty.rows ?? 24, pty.cols ?? 80, pty.height ?? 0, pty.width ?? 0);
        return channel;
      }
    }
    try {
      return await this.openExec(command, options);
    } catch (error) {
      if (!isChannelOpenFailure(error)) throw error;
      return this.openGivingUpStandbys(command, options, error);
    }
  }

  /**
   * A server at its MaxSessions refuses a channel, and an idle standby is one
   * of those sessions: each refusal gives one up and tries again. The server
   * counts a standby until its shell has exited, a little after its channel
   * closes, hence the growing pauses.
   */
  private async openGivingUpStandbys(command: string, options: ExecOptions, refusal: unknown): Promise<ClientChannel> {
    if (!(await this.releaseStandby())) throw refusal;
    for (let waitMs = 50; ; waitMs *= 2) {
      try {
        return await this.openExec(command, options);
      } catch (error) {
        if (!isChannelOpenFailure(error) || this.state !== "ready" || waitMs > RELEASE_RETRY_MAX_MS) throw error;
        await this.releaseStandby();
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }

  private async releaseStandby(): Promise<boolean> {
    return (await this.standby.release()) || ((await this.ptyStandby?.release()) ?? false);
  }

  /**
   * Opens a PTY channel ahead of the next PTY exec (a viewer's terminal), so
   * its login shell starts now rather than when the viewer arrives; one is
   * kept ready from then on. Without it a PTY exec opens its own channel.
   */
  preparePty(): void {
    this.ready();
    this.ptyStandby ??= new StandbyExec(
      (command) => this.openExec(command, { pty: { term: STANDBY_PTY_TERM, cols: 80, rows: 24, width: 0, height: 0 } }),
      { size: 1, pty: true },
    );
    this.ptyStandby.fill();
  }

  private async openExec(command: string, options: ExecOptions): Promise<ClientChannel> {
    const client = this.ready();
    let late = false;
    const opened = this.track<ClientChannel>(
      "opening an exec channel",
      (resolve, reject) => {
        client.exec(command, options, (error, channel) => {
          if (error) return reject(this.lostError ?? error);
          if (late) {
            channel.close();
            return;
          }
          recordChannelExit(channel);
          resolve(channel);
        });
      },
      this.config.readyTimeoutMs,
    );
    opened.catch(() => {
      late = true;
    });
    return opened;
  }

  /** The connection's SFTP session, opened on first use. */
  async sftp(): Promise<SFTPWrapper> {
    const client = this.ready();
    if (!this.sftpSession) {
      const session = this.track<SFTPWrapper>(
        "opening the SFTP session",
        (resolve, reject) => {
          client.sftp((error, sftp) => {
            if (error) return reject(this.lostError ?? error);
            sftp.on("close", () => {
              if (this.sftpSession === session) this.sftpSession = null;
            });
            resolve(sftp);
          });
        },
        this.config.readyTimeoutMs,
      );
      this.sftpSession = session;
      session.catch(() => {
        if (this.sftpSession === session) this.sftpSession = null;
      });
    }
    return this.sftpSession;
  }

  /** A channel to `host:port` as seen from the remote machine. */
  async forwardOut(host: string, port: number): Promise<ClientChannel> {
    const client = this.ready();
    return this.track<ClientChannel>(
      `forwarding to ${host}:${port}`,
      (resolve, reject) => {
        client.forwardOut("127.0.0.1", 0, host, port, (error, channel) => {
          if (error) return reject(this.lostError ?? error);
          resolve(channel);
        });
      },
      this.config.readyTimeoutMs,
    );
  }

  /** Closes the connection; pending operations fail with ConnectionLostError. Idempotent, bounded. */
  async end(): Promise<void> {
    const client = this.client;
    if (!client || this.state === "closed" || this.state === "idle") {
      this.state = "closed";
      return;
    }
    if (this.state === "lost") {
      this.state = "closed";
      client.destroy();
      return;
    }
    this.state = "ending";
    client.end();
    // A server that does not answer the disconnect must not hold us up.
    const bound = setTimeout(() => client.destroy(), 2000);
    await this.closed;
    clearTimeout(bound);
    this.onLost(null);
    this.state = "closed";
    this.client = null;
  }
}
