import { execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { startRestartableServer } from "@optio/host/testing";

const execFileAsync = promisify(execFile);

const BIN = "/usr/lib/postgresql/15/bin";
const RUN_AS = "optio-pg";
const START_BOUND_MS = 30_000;

/** A private PostgreSQL 15 on 127.0.0.1 for tests, in a temp dir, trusting local connections. */
export interface TestPostgres {
  readonly host: "127.0.0.1";
  readonly port: number;
  /** The superuser the server was made with. */
  readonly user: string;
  /** The temp dir holding the data directory. */
  readonly dir: string;
  /** `postgres://user@127.0.0.1:port/database`; database `postgres` when not named. */
  connectionString(database?: string): string;
  /** Creates an empty database and returns its connection string. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (fast shutdown), keeping its data and port, as a restart or an outage would. */
  halt(): Promise<void>;
  /** Starts a halted server again on the same port. */
  resume(): Promise<void>;
  /** Stops the server and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

interface Account {
  uid: number;
  gid: number;
}

function accountOf(name: string): Account | undefined {
  for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
    const fields = line.split(":");
    if (fields[0] === name) return { uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  return undefined;
}

/** PostgreSQL refuses to run as root: as root, an unprivileged account made for it (once), else who we are. */
async function serverAccount(): Promise<Account | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const known = accountOf(RUN_AS);
  if (known) return known;
  // Two test processes may race to create it; either way it exists afterwards.
  await execFileAsync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", RUN_AS]).catch(
    () => {},
  );
  const made = accountOf(RUN_AS);
  if (!made) throw new Error(`cannot create the user ${RUN_AS} to run PostgreSQL as`);
  return made;
}

/**
 * Starts PostgreSQL 15 (`/usr/lib/postgresql/15/bin`) on a free port of
 * 127.0.0.1 with a fresh cluster in a temp dir. As root it runs as the
 * unprivileged user `optio-pg`, created when missing.
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  const account = await serverAccount();
  const as = account ? { uid: account.uid, gid: account.gid } : {};
  const dir = await mkdtemp(path.join(os.tmpdir(), "optio-pg-"));
  const dataDir = path.join(dir, "data");
  const user = "optio";

  try {
    if (account) await chown(dir, account.uid, account.gid);
    await execFileAsync(
      path.join(BIN, "initdb"),
      ["-D", dataDir, "-U", user, "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"],
      as,
    );
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  // SIGINT is PostgreSQL's fast shutdown: clients are disconnected, open transactions rolled back.
  const server = await startRestartableServer({
    name: "postgres",
    dir,
    spawn: (on) =>
      spawn(
        path.join(BIN, "postgres"),
        [
          "-D",
          dataDir,
          "-c",
          "listen_addresses=127.0.0.1",
          "-c",
          `port=${on}`,
          "-c",
          `unix_socket_directories=${dir}`,
          "-c",
          "shared_buffers=32MB",
          "-c",
          "max_connections=60",
          "-c",
          "logging_collector=off",
        ],
        { ...as, stdio: ["ignore", "ignore", "pipe"] },
      ),
    ready: { stream: "stderr", marker: "database system is ready to accept connections", boundMs: START_BOUND_MS },
    stopSignal: "SIGINT",
  });
  const connectionString = (database = "postgres") => `postgres://${user}@127.0.0.1:${server.port}/${database}`;
  return {
    ...server,
    host: "127.0.0.1",
    user,
    dir,
    connectionString,
    async createDatabase(name) {
      const { Client } = (await import("pg")).default;
      const client = new Client({ connectionString: connectionString() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      } finally {
        await client.end();
      }
      return connectionString(name);
    },
  };
}
