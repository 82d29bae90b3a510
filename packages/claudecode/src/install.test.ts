import { adapterTestContext, type AdapterTestContext } from "@optio/agents/testing";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { lstat, mkdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { homedir } from "node:os";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import {
  AgentInstallError,
  AgentNotInstalledError,
  detectHostPlatform,
  VendorScriptError,
  workerTarballCacheDir,
} from "@optio/agents/install";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseClaudeCodeConfig } from "./config.js";
import { claudePlatformPackage, installClaude } from "./install.js";
import { FAKE_CLAUDE } from "./test-context.js";

let ctx: AdapterTestContext;
let server: Server;
let base: string;
const routes = new Map<string, Buffer>();
const hits: string[] = [];
const cleanup: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? "");
    const body = routes.get(req.url ?? "");
    if (body) res.writeHead(200).end(body);
    else res.writeHead(404).end("not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  for (const path of cleanup) await rm(path, { recursive: true, force: true });
});
beforeEach(async () => {
  ctx = await adapterTestContext();
  hits.length = 0;
  routes.clear();
});
afterEach(async () => {
  await ctx.dispose();
});

/** An install script that puts the stand-in claude at `path`. */
const installScript = (path: string) =>
  `set -e\nmkdir -p "$(dirname '${path}')"\ncat > '${path}' <<'CLAUDE'\n${FAKE_CLAUDE}CLAUDE\nchmod 755 '${path}'\n`;

async function placeClaude(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "claude"), FAKE_CLAUDE, { mode: 0o755 });
  return join(dir, "claude");
}

describe("installClaude", () => {
  it("uses a claude already in the install dir without running any strategy", async () => {
    const dir = join(ctx.root, "bin");
    const path = await placeClaude(dir);
    const config = parseClaudeCodeConfig({ installDir: dir, vendorScriptUrl: `${base}/install.sh`, registry: base });
    expect(await installClaude(ctx, config)).toEqual({ binaryPath: path, version: "2.1.332" });
    expect(hits).toEqual([]);
    expect(ctx.progress.some((m) => m.startsWith("Installing"))).toBe(false);
    expect(await readlink(join(ctx.home, ".local/bin/claude"))).toBe(path);
  });

  it("fails naming the path when claude is missing and installing is off", async () => {
    const dir = join(ctx.root, "empty");
    const error = await installClaude(
      ctx,
      parseClaudeCodeConfig({ installDir: dir, installIfMissing: false, vendorScriptUrl: `${base}/install.sh` }),
    ).catch((e: unknown) => e);
    expect(AgentNotInstalledError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(join(dir, "claude"));
    expect(hits).toEqual([]);
  });

  it("runs the vendor script into a custom install dir and re-checks presence", async () => {
    const dir = join(ctx.root, "custom", "bin");
    routes.set("/install.sh", Buffer.from(installScript(join(dir, "claude"))));
    const installed = await installClaude(
      ctx,
      parseClaudeCodeConfig({ installDir: dir, vendorScriptUrl: `${base}/install.sh` }),
    );
    expect(installed).toEqual({ binaryPath: join(dir, "claude"), version: "2.1.332" });
    expect(hits).toEqual(["/install.sh"]);
    expect(ctx.progress).toContain("Installing claude (vendor-script)…");
  });

  it("surfaces the installer's exit code and stderr when every strategy fails", async () => {
    routes.set("/install.sh", Buffer.from("echo 'glibc too old' >&2\nexit 7\n"));
    const config = parseClaudeCodeConfig({
      installDir: join(ctx.root, "bin"),
      vendorScriptUrl: `${base}/install.sh`,
      installStrategies: ["vendor-script"],
    });
    const error = await installClaude(ctx, config).catch((e: unknown) => e);
    expect(AgentInstallError.isInstance(error)).toBe(true);
    const attempt = (error as AgentInstallError).attempts[0];
    expect(attempt?.strategy).toBe("vendor-script");
    expect(VendorScriptError.isInstance(attempt?.error)).toBe(true);
    expect(attempt?.error).toMatchObject({ exitCode: 7 });
    expect((error as Error).message).toContain("code 7");
    expect((error as Error).message).toContain("glibc too old");
  });

  it("falls through to the npm registry when the vendor script fails", async () => {
    routes.set("/install.sh", Buffer.from("echo 'cannot reach downloads' >&2\nexit 3\n"));
    const platform = await detectHostPlatform(ctx.host);
    const name = claudePlatformPackage(platform);
    const version = `0.0.0-optio-test.${Date.now()}`;
    const staging = join(ctx.root, "staging");
    await placeClaude(join(staging, "package"));
    const tgz = join(ctx.root, "claude.tgz");
    await ctx.host.runChecked(`tar -czf '${tgz}' -C '${staging}' package`);
    const tarball = await readFile(tgz);
    const tarballPath = `/${name}/-/claude-${version}.tgz`;
    const integrity = `sha512-${createHash("sha512").update(tarball).digest("base64")}`;
    const packument = {
      name,
      "dist-tags": { latest: version },
      versions: { [version]: { dist: { tarball: `${base}${tarballPath}`, integrity } } },
    };
    routes.set(`/${name.replace("/", "%2f")}`, Buffer.from(JSON.stringify(packument)));
    routes.set(tarballPath, tarball);
    const cached = join(homedir(), ".cache/optio/claude", version);
    cleanup.push(cached, join(workerTarballCacheDir(), `${name.replace("/", "+")}-${version}.tgz`));

    const dir = join(ctx.root, "bin");
    const installed = await installClaude(
      ctx,
      parseClaudeCodeConfig({ installDir: dir, vendorScriptUrl: `${base}/install.sh`, registry: base }),
    );
    expect(installed).toEqual({ binaryPath: join(dir, "claude"), version: "2.1.332" });
    expect(hits).toEqual(["/install.sh", `/${name.replace("/", "%2f")}`, tarballPath]);
    expect(await readlink(join(dir, "claude"))).toBe(join(cached, "claude"));
    expect((await lstat(join(ctx.home, ".local/bin/claude"))).isSymbolicLink()).toBe(true);
    expect(existsSync(join(cached, "claude"))).toBe(true);
    expect(ctx.progress.some((m) => m.startsWith("Installing claude with vendor-script failed"))).toBe(true);
  });
});

describe("claudePlatformPackage", () => {
  it("names the six native packages", () => {
    expect(claudePlatformPackage({ os: "linux", arch: "x64", libc: "glibc" })).toBe(
      "@anthropic-ai/claude-code-linux-x64",
    );
    expect(claudePlatformPackage({ os: "linux", arch: "arm64", libc: "glibc" })).toBe(
      "@anthropic-ai/claude-code-linux-arm64",
    );
    expect(claudePlatformPackage({ os: "linux", arch: "x64", libc: "musl" })).toBe(
      "@anthropic-ai/claude-code-linux-x64-musl",
    );
    expect(claudePlatformPackage({ os: "linux", arch: "arm64", libc: "musl" })).toBe(
      "@anthropic-ai/claude-code-linux-arm64-musl",
    );
    expect(claudePlatformPackage({ os: "darwin", arch: "x64", libc: null })).toBe(
      "@anthropic-ai/claude-code-darwin-x64",
    );
    expect(claudePlatformPackage({ os: "darwin", arch: "arm64", libc: null })).toBe(
      "@anthropic-ai/claude-code-darwin-arm64",
    );
  });
});
