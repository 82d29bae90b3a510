import { adapterTestContext, type AdapterTestContext } from "@optio/agents/testing";
import { readFile, readlink, rm, writeFile, mkdir } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createHash } from "node:crypto";
import { join } from "node:path";
import {
  AgentInstallError,
  AgentNotInstalledError,
  PackageFetchError,
  detectHostPlatform,
  workerTarballCacheDir,
} from "@optio/agents/install";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseOpenCodeConfig } from "./config.js";
import { installOpenCode, openCodePlatformPackage, probeOpenCode } from "./install.js";
import { FAKE_OPENCODE } from "./test-context.js";

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

async function placeOpenCode(dir: string, text = FAKE_OPENCODE): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "opencode"), text, { mode: 0o755 });
  return join(dir, "opencode");
}

/** Publishes a stand-in opencode as `package/bin/opencode` of the host's platform package on the test registry. */
async function publishStandIn(version: string): Promise<string> {
  const name = openCodePlatformPackage(await detectHostPlatform(ctx.host));
  const staging = join(ctx.root, "staging");
  await placeOpenCode(join(staging, "package", "bin"));
  const tgz = join(ctx.root, "opencode.tgz");
  await ctx.host.runChecked(`tar -czf '${tgz}' -C '${staging}' package`);
  const tarball = await readFile(tgz);
  const tarballPath = `/${name}/-/${name}-${version}.tgz`;
  const integrity = `sha512-${createHash("sha512").update(tarball).digest("base64")}`;
  routes.set(
    `/${name}`,
    Buffer.from(
      JSON.stringify({
        name,
        "dist-tags": { latest: version },
        versions: { [version]: { dist: { tarball: `${base}${tarballPath}`, integrity } } },
      }),
    ),
  );
  routes.set(tarballPath, tarball);
  cleanup.push(join(workerTarballCacheDir(), `${name}-${version}.tgz`));
  return name;
}

describe("installOpenCode", () => {
  it("uses an opencode already in the install dir, probing it with the task's HOME", async () => {
    const dir = join(ctx.root, "bin");
    const path = await placeOpenCode(dir, `#!/bin/sh\necho "$HOME" > "$(dirname "$0")/seen-home"\necho 1.18.34\n`);
    const config = parseOpenCodeConfig({ installDir: dir, registry: base, vendorScriptUrl: `${base}/install` });
    expect(await installOpenCode(ctx, config)).toEqual({ binaryPath: path, version: "1.18.34" });
    expect(hits).toEqual([]);
    expect((await readFile(join(dir, "seen-home"), "utf8")).trim()).toBe(ctx.home);
    expect(await readlink(join(ctx.home, ".local/bin/opencode"))).toBe(path);
  });

  it("does not take a binary that prints no version for opencode", async () => {
    expect(
      await probeOpenCode(
        ctx.host,
        await placeOpenCode(join(ctx.root, "other"), "#!/bin/sh\necho 'something else'\n"),
        ctx.home,
      ),
    ).toBeNull();
    expect(await probeOpenCode(ctx.host, join(ctx.root, "missing", "opencode"), ctx.home)).toBeNull();
  });

  it("fails naming the path when opencode is missing and installing is off", async () => {
    const dir = join(ctx.root, "empty");
    const error = await installOpenCode(
      ctx,
      parseOpenCodeConfig({ installDir: dir, installIfMissing: false, registry: base }),
    ).catch((e: unknown) => e);
    expect(AgentNotInstalledError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(join(dir, "opencode"));
    expect(hits).toEqual([]);
  });

  it("installs the registry's platform package into the shared cache and links it", async () => {
    const version = `0.0.0-optio-test.${Date.now()}`;
    const name = await publishStandIn(version);
    const dir = join(ctx.root, "bin");
    const cacheDir = join(ctx.root, "cache");
    const installed = await installOpenCode(
      ctx,
      parseOpenCodeConfig({ installDir: dir, installCacheDir: cacheDir, registry: base }),
    );
    expect(installed).toEqual({ binaryPath: join(dir, "opencode"), version: "1.18.34" });
    expect(hits).toEqual([`/${name}`, `/${name}/-/${name}-${version}.tgz`]);
    expect(await readlink(join(dir, "opencode"))).toBe(join(cacheDir, version, "bin", "opencode"));
    expect(ctx.progress).toContain("Installing opencode (npm-registry)…");
  });

  it("falls through to the vendor script, which installs into OPENCODE_INSTALL_DIR", async () => {
    routes.set(
      "/install",
      Buffer.from(
        `set -e\nmkdir -p "$OPENCODE_INSTALL_DIR"\ncat > "$OPENCODE_INSTALL_DIR/opencode" <<'OC'\n${FAKE_OPENCODE}OC\nchmod 755 "$OPENCODE_INSTALL_DIR/opencode"\n`,
      ),
    );
    const dir = join(ctx.root, "custom", "bin");
    const installed = await installOpenCode(
      ctx,
      parseOpenCodeConfig({ installDir: dir, registry: base, vendorScriptUrl: `${base}/install` }),
    );
    expect(installed).toEqual({ binaryPath: join(dir, "opencode"), version: "1.18.34" });
    expect(ctx.progress.some((m) => m.startsWith("Installing opencode with npm-registry failed"))).toBe(true);
    expect(hits.at(-1)).toBe("/install");
  });

  it("lists every failed strategy", async () => {
    routes.set("/install", Buffer.from("echo 'unsupported' >&2\nexit 4\n"));
    const error = await installOpenCode(
      ctx,
      parseOpenCodeConfig({ installDir: join(ctx.root, "bin"), registry: base, vendorScriptUrl: `${base}/install` }),
    ).catch((e: unknown) => e);
    expect(AgentInstallError.isInstance(error)).toBe(true);
    const attempts = (error as AgentInstallError).attempts;
    expect(attempts.map((a) => a.strategy)).toEqual(["npm-registry", "vendor-script"]);
    expect(PackageFetchError.isInstance(attempts[0]?.error)).toBe(true);
    expect((error as Error).message).toContain("unsupported");
  });
});

describe("openCodePlatformPackage", () => {
  it("names the npm platform packages", () => {
    expect(openCodePlatformPackage({ os: "linux", arch: "x64", libc: "glibc" })).toBe("opencode-linux-x64");
    expect(openCodePlatformPackage({ os: "linux", arch: "arm64", libc: "musl" })).toBe("opencode-linux-arm64-musl");
    expect(openCodePlatformPackage({ os: "darwin", arch: "arm64", libc: null })).toBe("opencode-darwin-arm64");
  });
});
