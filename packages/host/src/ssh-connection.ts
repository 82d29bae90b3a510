import type { Client, ClientChannel, ConnectConfig, ExecOptions, SFTPWrapper } from "ssh2";
import { recordChannelExit } from "./channel-exit.js";
import {
  ConnectionLostError,
  ConnectionRefusedError,
  NotConnectedError,
  OptioConfigError,
  OptioTimeoutError,
} from "./errors.js";
import type { SSHConfig } from "./ssh-config.js";
import { connectError, hostKeyCheck, sshCredentials, sshLabel } from "./ssh-handshake.js";
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
    return sshLabel(this.config);
  }

  get isReady(): boolean {
    return this.state === "ready";
  }

  /** Opens and authenticates the connection, verifying the host key. */
  async connect(): Promise<void> {
    if (this.state === "ready") return;
    if (this.state === "connecting" || this.state === "ending")
      throw new NotConnectedError(`ssh: ${this.label} is ${this.state}`);
    const config = this.config;
    const ssh2 = await loadSsh2();
    const auth = await sshCredentials(ssh2, this.config);
    const check = await hostKeyCheck(this.config);
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
          if (!settled) fail(connectError(error, check, this.config));
          else this.onLost(error);
        });
        client.on("close", () => {
          markClosed();
          if (!settled)
            fail(new ConnectionRefusedError(`ssh: ${this.label} closed the connection during the handshake`));
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

  private onLost(cause: Error | null): void {
    if (this.state === "closed" || this.state === "lost") return;
    const ending = this.state === "ending";
    this.state = ending ? "closed" : "lost";
    const error = new ConnectionLostError(
      ending
        ? `ssh: ${this.label} was disconnected`
        : `ssh: connection to ${this.label} lost${cause ? `: ${cause.message}` : ""}`,
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
  track<T>(
    what: string,
    start: (resolve: (value: T) => void, reject: (error: Error) => void) => void,
    boundMs?: number,
  ): Promise<T> {
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
        timer = setTimeout(
          () => finish(() => reject(new OptioTimeoutError(`ssh: ${what} took longer than ${boundMs} ms`))),
          boundMs,
        );
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
