import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { shellCommand, type Host, type ProcessHandle, type Tunnel } from "@optio/host";
import * as z from "zod/mini";
import { attachCommand, type TmuxSession } from "./tmux.js";
import { TtydInstallError, TtydLaunchError, TtydMissingError, TtydUnsupportedPlatformError } from "./ttyd-errors.js";
import "../spec/zod-locale.js";

/**
 * ttyd as an optional backend: a ttyd process on the host attached to the
 * same tmux session, reached from the worker through a tunnel. The built-in
 * TerminalServer needs nothing on the host; ttyd is for consumers who
 * already embed it.
 */

export const TTYD_VERSION = "1.7.7";
export const TTYD_RELEASE_BASE = `https://github.com/tsl0922/ttyd/releases/download/${TTYD_VERSION}`;

const ARCH_ASSETS: Readonly<Record<string, string>> = {
  x86_64: "ttyd.x86_64",
  aarch64: "ttyd.aarch64",
  armv7l: "ttyd.armv7l",
};

/** What ensureTtyd needs from a HookContext (a HookContext fits). */
export interface TtydDeps {
  readonly host: Host;
  reportProgress?(percent: number | null, message?: string): void;
  readonly signal?: AbortSignal;
}

export const ensureTtydOptionsSchema = z.object({
  /** Download ttyd when it is not at the install dir. */
  installIfMissing: z._default(z.boolean(), true),
  /** Where ttyd lives on the host; `~` is the host user's home. */
  installDir: z._default(z.string().check(z.minLength(1)), "~/.local/bin"),
  /** The release to download `<releaseBase>/ttyd.<arch>` from. */
  releaseBase: z._default(z.url(), TTYD_RELEASE_BASE),
  /** Bound on the download. */
  downloadTimeoutMs: z._default(z.int().check(z.positive()), 300_000),
});
export type EnsureTtydOptions = z.input<typeof ensureTtydOptionsSchema>;

export interface TtydInstallation {
  /** Absolute path of the binary on the host. */
  path: string;
  /** The first line `ttyd --version` printed. */
  version: string;
  /** True when this call downloaded it. */
  installed: boolean;
}

/** The release asset for a host's `uname -s` and `uname -m`. */
export function ttydAssetFor(os: string, arch: string): string {
  if (os !== "Linux") {
    throw new TtydUnsupportedPlatformError(
      `ttyd can only be installed automatically on Linux; the host runs ${JSON.stringify(os)}. Install ttyd there yourself.`,
    );
  }
  const asset = ARCH_ASSETS[arch];
  if (!asset) {
    throw new TtydUnsupportedPlatformError(
      `no prebuilt ttyd for the host's CPU ${JSON.stringify(arch)} (available: ${Object.keys(ARCH_ASSETS).join(", ")}). Install ttyd there yourself.`,
    );
  }
  return asset;
}

async function ttydVersion(host: Host, path: string): Promise<string | null> {
  // Depending on the build, ttyd prints its version to stdout or stderr.
  const r = await host.runCommand(`[ -x ${shellCommand([path])} ] && ${shellCommand([path, "--version"])} 2>&1`);
  const text = `${r.stdout}\n${r.stderr}`.trim();
  if (r.exitCode !== 0 || !text.toLowerCase().includes("ttyd")) return null;
  return text.split("\n")[0]?.trim() ?? text;
}

async function hostAsset(host: Host): Promise<string> {
  const r = await host.runCommand("uname -s && uname -m");
  if (r.exitCode !== 0)
    throw new TtydInstallError(`uname failed on the host (exit ${r.exitCode}): ${r.stderr.trim().slice(0, 200)}`);
  const [os = "", arch = ""] = r.stdout
    .trim()
    .split(/\r?\n/)
    .map((line) => line.trim());
  return ttydAssetFor(os, arch);
}

/**
 * Makes sure ttyd is at `<installDir>/ttyd` on the host, downloading the
 * static release binary for the host's CPU (on the host itself, with curl or
 * wget) when it is missing and that is allowed.
 */
export async function ensureTtyd(deps: TtydDeps, options: EnsureTtydOptions = {}): Promise<TtydInstallation> {
  const parsed = z.safeParse(ensureTtydOptionsSchema, options);
  if (!parsed.success) throw new TtydInstallError(`ensureTtyd options: ${z.prettifyError(parsed.error)}`);
  const { installIfMissing, releaseBase, downloadTimeoutMs } = parsed.data;
  const { host } = deps;
  const dir = await expandHome(host, parsed.data.installDir);
  const path = `${dir}/ttyd`;

  deps.reportProgress?.(null, "Checking for ttyd…");
  const found = await ttydVersion(host, path);
  if (found) return { path, version: found, installed: false };
  if (!installIfMissing) {
    throw new TtydMissingError(
      `ttyd is not installed at ${path} on the ${host.kind} host, and installIfMissing is false`,
    );
  }

  const asset = await hostAsset(host);
  const url = `${releaseBase.replace(/\/+$/, "")}/${asset}`;
  await host.mkdir(dir, { mode: 0o755 });
  const partial = `${path}.part-${randomBytes(6).toString("hex")}`;
  deps.reportProgress?.(null, `Downloading ttyd (${asset})…`);
  try {
    const download = await host.runCommand(
      `if command -v curl >/dev/null 2>&1; then ${shellCommand(["curl", "-fsSL", "--connect-timeout", "30", "-o", partial, url])}; ` +
        `elif command -v wget >/dev/null 2>&1; then ${shellCommand(["wget", "-q", "-O", partial, url])}; ` +
        `else echo "neither curl nor wget is installed on the host" >&2; exit 127; fi`,
      { timeoutMs: downloadTimeoutMs, signal: deps.signal },
    );
    if (download.exitCode !== 0) {
      throw new TtydInstallError(
        `downloading ${url} on the host failed (exit ${download.exitCode}): ${download.stderr.trim().slice(0, 500)}`,
      );
    }
    const install = await host.runCommand(
      `${shellCommand(["chmod", "755", partial])} && ${shellCommand(["mv", "-f", partial, path])}`,
    );
    if (install.exitCode !== 0) {
      throw new TtydInstallError(
        `installing ttyd to ${path} failed (exit ${install.exitCode}): ${install.stderr.trim().slice(0, 500)}`,
      );
    }
  } catch (error) {
    await host.remove(partial).catch(() => undefined);
    if (TtydInstallError.isInstance(error)) throw error;
    throw new TtydInstallError(`downloading ${url} on the host failed: ${(error as Error)?.message ?? String(error)}`, {
      cause: error,
    });
  }
  const version = await ttydVersion(host, path);
  if (!version)
    throw new TtydInstallError(
      `${url} was installed at ${path}, but \`ttyd --version\` does not answer; the download is not a ttyd binary for this host`,
    );
  return { path, version, installed: true };
}

async function expandHome(host: Host, dir: string): Promise<string> {
  const trimmed = dir.replace(/\/+$/, "") || "/";
  if (trimmed === "~") return host.resolveHome();
  if (trimmed.startsWith("~/")) return `${await host.resolveHome()}/${trimmed.slice(2)}`;
  return host.resolvePath(trimmed);
}

const BANNER_FORMS: readonly RegExp[] = [
  // "N: Listening on port: 33449" (1.7.x through libwebsockets), "Listening on port 7681" (older)
  /listening on port[\s:]+(\d{1,5})\b/i,
  // "[INFO] listening on http://127.0.0.1:7681/" (builds that log a URL)
  /listening on (?:https?|wss?):\/\/[^\s/]*:(\d{1,5})(?=[/\s]|$)/i,
];

/** The port in one line of ttyd's output, or null when the line is not its ready banner. */
export function parseTtydPort(line: string): number | null {
  for (const form of BANNER_FORMS) {
    const match = form.exec(line);
    if (!match) continue;
    const port = Number(match[1]);
    if (port >= 1 && port <= 65535) return port;
  }
  return null;
}

export const launchTtydOptionsSchema = z.object({
  /** The ttyd binary on the host (from ensureTtyd). */
  ttydPath: z.string().check(z.minLength(1)),
  /** The task's tmux session. */
  session: z.custom<TmuxSession>(
    (v) => typeof v === "object" && v !== null && "socket" in v && "name" in v,
    "a TmuxSession",
  ),
  /** Most clients ttyd serves at once; 0 means no limit. */
  maxViewers: z._default(z.int().check(z.gte(0)), 0),
  /** HTTP basic credential ttyd demands; a random one when omitted. */
  credential: z.optional(
    z.object({
      username: z.string().check(z.regex(/^[^:\s]+$/, "no colon or whitespace")),
      password: z.string().check(z.minLength(1)),
    }),
  ),
  /** Viewers attach with `tmux attach -r` and ttyd runs without -W. */
  readOnly: z._default(z.boolean(), false),
  /** Bound on ttyd printing its port. */
  readyTimeoutMs: z._default(z.int().check(z.positive()), 10_000),
});
export type LaunchTtydOptions = z.input<typeof launchTtydOptionsSchema>;

export interface TtydInstance {
  /** Reachable from the worker: `http://127.0.0.1:<tunnel port>/`. */
  readonly url: string;
  /** The port ttyd listens on, on the host. */
  readonly hostPort: number;
  readonly credential: { username: string; password: string };
  /** Stops ttyd (viewers detach, the agent keeps running) and closes the tunnel. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts ttyd on the host's loopback with an ephemeral port, attached to the
 * task's tmux session, and tunnels it to the worker. The credential is on
 * ttyd's command line, so other users of a shared host can see it in `ps`;
 * that host's loopback is the trust boundary.
 */
export async function launchTtyd(host: Host, options: LaunchTtydOptions): Promise<TtydInstance> {
  const parsed = z.safeParse(launchTtydOptionsSchema, options);
  if (!parsed.success) throw new TtydLaunchError(`launchTtyd options: ${z.prettifyError(parsed.error)}`);
  const { ttydPath, session, maxViewers, readOnly, readyTimeoutMs } = parsed.data;
  const credential = parsed.data.credential ?? { username: "optio", password: randomBytes(18).toString("base64url") };
  const argv = [
    ttydPath,
    ...(readOnly ? [] : ["-W"]),
    "-i",
    "127.0.0.1",
    "-p",
    "0",
    "-m",
    String(maxViewers),
    "-T",
    "xterm-256color",
  ];
  argv.push("-c", `${credential.username}:${credential.password}`, "--");
  const command = `exec ${shellCommand(argv)} ${attachCommand(session, { readOnly })}`;

  const handle = await host.spawn(command, { stderr: "merge" });
  let hostPort: number;
  try {
    hostPort = await waitForPort(handle, readyTimeoutMs);
  } catch (error) {
    await host.terminate(handle, { graceMs: 1000 });
    throw error;
  }
  let tunnel: Tunnel;
  try {
    tunnel = await host.openTunnel(hostPort);
  } catch (error) {
    await host.terminate(handle, { graceMs: 1000 });
    throw new TtydLaunchError(
      `ttyd listens on port ${hostPort} of the host, but the tunnel to it failed: ${(error as Error)?.message ?? error}`,
      { cause: error },
    );
  }
  let closing: Promise<void> | null = null;
  return {
    url: `http://127.0.0.1:${tunnel.port}/`,
    hostPort,
    credential,
    close() {
      closing ??= (async () => {
        await tunnel.close().catch(() => undefined);
        await host.terminate(handle, { graceMs: 2000 });
      })();
      return closing;
    },
  };
}

/** Reads ttyd's output until its banner names the port; keeps draining afterwards so ttyd never blocks on a full pipe. */
function waitForPort(handle: ProcessHandle, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const tail: string[] = [];
    let settled = false;
    const lines = createInterface({ input: handle.stdout, crlfDelay: Infinity });
    const finish = (error: Error | null, port?: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(port as number);
    };
    const timer = setTimeout(
      () =>
        finish(
          new TtydLaunchError(`ttyd did not report its port within ${timeoutMs} ms; its output:\n${tail.join("\n")}`),
        ),
      timeoutMs,
    );
    lines.on("line", (line) => {
      if (settled) return;
      tail.push(line);
      if (tail.length > 20) tail.shift();
      const port = parseTtydPort(line);
      if (port !== null) finish(null, port);
    });
    void handle.exited.then((exit) =>
      finish(
        new TtydLaunchError(
          `ttyd exited (${exit.code === null ? `signal ${exit.signal}` : `code ${exit.code}`}) before reporting its port; its output:\n${tail.join("\n")}`,
        ),
      ),
    );
  });
}
