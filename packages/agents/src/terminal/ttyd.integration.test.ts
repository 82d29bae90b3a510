import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalHost, type Host } from "@optio/host";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tmuxSessionFor } from "./tmux.js";
import { TtydInstallError, TtydLaunchError, TtydMissingError } from "./ttyd-errors.js";
import { ensureTtyd, launchTtyd } from "./ttyd.js";

/**
 * A stand-in for the ttyd release binary (the real one cannot be downloaded
 * here): `--version` answers like ttyd; otherwise it serves HTTP on an
 * ephemeral port of 127.0.0.1 behind the `-c` credential, prints a ttyd ready
 * banner, and answers with the argv it was given.
 */
const SERVE_JS = `
const http = require("node:http");
const argv = process.argv.slice(1);
const cred = argv[argv.indexOf("-c") + 1];
const server = http.createServer((req, res) => {
  if (req.headers.authorization !== "Basic " + Buffer.from(cred).toString("base64")) {
    res.writeHead(401, { "WWW-Authenticate": "Basic realm=ttyd" }).end();
    return;
  }
  res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(argv));
});
server.listen(0, "127.0.0.1", () => {
  console.log("[2025/01/01 00:00:00:0000] N: ttyd 1.7.7-standin (libwebsockets 4.3.3)");
  console.log("[2025/01/01 00:00:00:0000] N: Listening on port: " + server.address().port);
});
`;

function standInScript(): string {
  return `#!/bin/sh
if [ "$1" = "--version" ]; then echo "ttyd version 1.7.7-standin" >&2; exit 0; fi
exec ${JSON.stringify(process.execPath)} -e ${shellSingle(SERVE_JS)} -- "$@"
`;
}

function shellSingle(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

let root: string;
let host: Host;
let release: Server;
let releaseBase: string;
const requests: string[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "optio-ttyd-"));
  host = new LocalHost({
    consumer: "optio-ttyd-test",
    processId: "ttyd-task",
    env: { OPTIO_TTYD_TEST_TASK_ROOT: root },
  });
  await host.connect();
  release = createServer((req, res) => {
    requests.push(req.url ?? "");
    if (req.url === "/1.7.7/ttyd.x86_64" || req.url === "/1.7.7/ttyd.aarch64" || req.url === "/1.7.7/ttyd.armv7l") {
      res.writeHead(200, { "Content-Type": "application/octet-stream" }).end(standInScript());
    } else if (req.url?.startsWith("/broken/")) {
      res.writeHead(200, { "Content-Type": "application/octet-stream" }).end("#!/bin/sh\necho nothing useful\n");
    } else {
      res.writeHead(404).end("no such asset");
    }
  });
  await new Promise<void>((resolve) => release.listen(0, "127.0.0.1", resolve));
  releaseBase = `http://127.0.0.1:${(release.address() as AddressInfo).port}/1.7.7`;
});

afterAll(async () => {
  await host?.disconnect();
  await new Promise<void>((resolve) => (release ? release.close(() => resolve()) : resolve()));
  if (root) await rm(root, { recursive: true, force: true });
});

describe("ensureTtyd", () => {
  it("refuses with a typed error when ttyd is missing and installing is not allowed", async () => {
    const dir = join(root, "none");
    await expect(ensureTtyd({ host }, { installDir: dir, installIfMissing: false, releaseBase })).rejects.toSatisfy(
      (error) => TtydMissingError.isInstance(error) && String((error as Error).message).includes(`${dir}/ttyd`),
    );
    expect(requests).toEqual([]);
  });

  it("downloads the asset for the host's CPU on the host, then finds it without downloading again", async () => {
    const dir = join(root, "bin");
    const progress: string[] = [];
    const first = await ensureTtyd(
      { host, reportProgress: (_p, m) => progress.push(m ?? "") },
      { installDir: dir, releaseBase },
    );
    const arch = (await host.runChecked("uname -m")).stdout.trim();
    expect(first).toEqual({ path: `${dir}/ttyd`, version: "ttyd version 1.7.7-standin", installed: true });
    expect(requests).toEqual([`/1.7.7/ttyd.${arch}`]);
    expect(progress.some((m) => m.includes(`ttyd.${arch}`))).toBe(true);
    expect(await readdir(dir)).toEqual(["ttyd"]);
    const second = await ensureTtyd({ host }, { installDir: dir, releaseBase, installIfMissing: false });
    expect(second.installed).toBe(false);
    expect(requests).toHaveLength(1);
  });

  it("removes the partial file when the download fails", async () => {
    const dir = join(root, "failed");
    const error = await ensureTtyd(
      { host },
      { installDir: dir, releaseBase: releaseBase.replace("/1.7.7", "/missing") },
    ).catch((e: unknown) => e);
    expect(TtydInstallError.isInstance(error)).toBe(true);
    expect(String((error as Error).message)).toContain("/missing/ttyd.");
    expect(await readdir(dir)).toEqual([]);
  });

  it("fails when what was downloaded is not ttyd", async () => {
    const dir = join(root, "broken");
    const error = await ensureTtyd(
      { host },
      { installDir: dir, releaseBase: releaseBase.replace("/1.7.7", "/broken") },
    ).catch((e: unknown) => e);
    expect(TtydInstallError.isInstance(error)).toBe(true);
    expect(String((error as Error).message)).toMatch(/not a ttyd binary/);
  });
});

describe("launchTtyd", () => {
  it("starts ttyd on the host's loopback attached to the tmux session and reaches it through a tunnel", async () => {
    const dir = join(root, "launch");
    const { path } = await ensureTtyd({ host }, { installDir: dir, releaseBase });
    const session = tmuxSessionFor(host);
    const ttyd = await launchTtyd(host, {
      ttydPath: path,
      session,
      maxViewers: 3,
      credential: { username: "viewer", password: "s3cret" },
    });
    try {
      expect(ttyd.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect((await fetch(ttyd.url)).status).toBe(401);
      const res = await fetch(ttyd.url, {
        headers: { Authorization: `Basic ${Buffer.from("viewer:s3cret").toString("base64")}` },
      });
      expect(res.status).toBe(200);
      const argv = (await res.json()) as string[];
      expect(argv.slice(0, 14)).toEqual([
        "-W",
        "-i",
        "127.0.0.1",
        "-p",
        "0",
        "-m",
        "3",
        "-T",
        "xterm-256color",
        "-c",
        "viewer:s3cret",
        "--",
        "/bin/sh",
        "-c",
      ]);
      // The script waits for the session, then attaches to it.
      expect(argv[14]).toContain("attach-session");
      expect(argv[14]).toContain(session.socket);
    } finally {
      await ttyd.close();
    }
    await expect(fetch(ttyd.url)).rejects.toThrow();
  });

  it("makes up a credential and reports a ttyd that exits before its banner", async () => {
    const dir = join(root, "launch2");
    const { path } = await ensureTtyd({ host }, { installDir: dir, releaseBase });
    const session = tmuxSessionFor(host);
    const ttyd = await launchTtyd(host, { ttydPath: path, session, readOnly: true });
    try {
      expect(ttyd.credential.username).toBe("optio");
      expect(ttyd.credential.password.length).toBeGreaterThanOrEqual(20);
      const res = await fetch(ttyd.url, {
        headers: {
          Authorization: `Basic ${Buffer.from(`${ttyd.credential.username}:${ttyd.credential.password}`).toString("base64")}`,
        },
      });
      const argv = (await res.json()) as string[];
      expect(argv).not.toContain("-W");
      expect(argv.at(-1)).toMatch(/attach-session'? '?-r'? /);
    } finally {
      await ttyd.close();
    }

    const failing = join(root, "failing-ttyd");
    await host.writeText(failing, "#!/bin/sh\necho 'ERROR: bind failed' >&2\nexit 3\n", { mode: 0o755 });
    const error = await launchTtyd(host, { ttydPath: failing, session }).catch((e: unknown) => e);
    expect(TtydLaunchError.isInstance(error)).toBe(true);
    expect(String((error as Error).message)).toMatch(/code 3[\s\S]*bind failed/);
  });
});
