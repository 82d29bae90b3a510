import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalHost } from "@optio/host";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { detectHostPlatform } from "./host-platform.js";
import { IntegrityMismatchError, PackageFetchError } from "./install-errors.js";
import {
  installFromRegistry,
  packagePerPlatform,
  workerTarballCacheDir,
  type InstallContext,
} from "./registry-package.js";
import {
  makePackageTarball,
  publishFakePackage,
  publishFakeVersions,
  sri,
  startStaticServer,
  type StaticServer,
} from "./test-registry.js";

let root: string;
let host: LocalHost;
let server: StaticServer;
const progress: string[] = [];
const ctx = (): InstallContext => ({
  host,
  reportProgress: (_p, message) => progress.push(message ?? ""),
  signal: new AbortController().signal,
});
const workerCacheFiles: string[] = [];
const unique = () => `optio-fake-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "optio-registry-"));
  host = new LocalHost({
    consumer: "installtest",
    processId: "p1",
    env: { INSTALLTEST_TASK_ROOT: join(root, "tasks") },
  });
  await host.connect();
  server = await startStaticServer();
});

afterEach(() => {
  progress.length = 0;
});

afterAll(async () => {
  await server?.close();
  await host?.disconnect();
  await rm(root, { recursive: true, force: true });
  for (const file of workerCacheFiles) await rm(file, { force: true });
});

async function fakePackage(content = "#!/bin/sh\necho fake 1.0\n") {
  const name = unique();
  const version = "1.0.0";
  const tarball = await makePackageTarball({
    "bin/tool": { content, mode: 0o755 },
    "package.json": { content: `{"name":"${name}"}` },
  });
  workerCacheFiles.push(join(workerTarballCacheDir(), `${name}-${version}.tgz`));
  return { name, version, tarball, ...publishFakePackage(server, name, version, tarball) };
}

describe("detectHostPlatform", () => {
  it("names this machine's OS, CPU and libc", async () => {
    const platform = await detectHostPlatform(host);
    expect(platform.os).toBe("linux");
    expect(["x64", "arm64"]).toContain(platform.arch);
    expect(platform.libc).toBe(
      existsSync("/lib/ld-musl-x86_64.so.1") || existsSync("/lib/ld-musl-aarch64.so.1") ? "musl" : "glibc",
    );
  });
});

describe("installFromRegistry against registry.npmjs.org", () => {
  const spec = { agent: "is-number", packageName: () => "is-number", binaryInPackage: "index.js", version: "7.0.0" };

  it("verifies, caches and installs a real package; two installs at once share one intact copy", async () => {
    const cacheDir = join(root, "real-cache");
    const [a, b] = await Promise.all([
      installFromRegistry(ctx(), { ...spec, cacheDir }),
      installFromRegistry(ctx(), { ...spec, cacheDir }),
    ]);
    expect(a).toEqual({ binaryPath: join(cacheDir, "7.0.0", "index.js"), version: "7.0.0" });
    expect(b).toEqual(a);
    const text = await readFile(a.binaryPath, "utf8");
    expect(text).toContain("module.exports = function(num)");
    expect((await stat(a.binaryPath)).mode & 0o777).toBe(0o755);
    // Only the published version dir is left: the losing installer discarded its temp dir.
    expect(await readdir(cacheDir)).toEqual(["7.0.0"]);
    const tarball = join(workerTarballCacheDir(), "is-number-7.0.0.tgz");
    expect(
      createHash("sha512")
        .update(await readFile(tarball))
        .digest("base64"),
    ).toBe("41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==");
  });

  it("uses the host cache without touching any registry when the version is already there", async () => {
    const cacheDir = join(root, "real-cache");
    const result = await installFromRegistry(ctx(), { ...spec, cacheDir, registry: `${server.url}/unreachable` });
    expect(result.binaryPath).toBe(join(cacheDir, "7.0.0", "index.js"));
    expect(server.hits.size).toBe(0);
  });

  it("resolves dist-tags.latest when no version is pinned", async () => {
    const cacheDir = join(root, "latest-cache");
    const result = await installFromRegistry(ctx(), { ...spec, version: undefined, cacheDir });
    expect(result.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(await readFile(result.binaryPath, "utf8")).toContain("module.exports");
  });
});

describe("installFromRegistry against a local registry", () => {
  it("downloads once with byte progress, then reuses the worker's verified tarball for another host cache", async () => {
    const pkg = await fakePackage();
    const first = await installFromRegistry(ctx(), {
      agent: "tool",
      packageName: () => pkg.name,
      binaryInPackage: "bin/tool",
      cacheDir: join(root, "c1"),
      registry: server.url,
    });
    expect(first).toEqual({ binaryPath: join(root, "c1", "1.0.0", "bin", "tool"), version: "1.0.0" });
    expect(await readFile(first.binaryPath, "utf8")).toBe("#!/bin/sh\necho fake 1.0\n");
    expect((await host.runChecked(first.binaryPath)).stdout).toBe("fake 1.0\n");
    expect(progress.some((m) => /^Downloading .+@1\.0\.0 \d+\.\d\/\d+\.\d MB$/.test(m))).toBe(true);
    await installFromRegistry(ctx(), {
      agent: "tool",
      packageName: () => pkg.name,
      binaryInPackage: "bin/tool",
      cacheDir: join(root, "c2"),
      registry: server.url,
    });
    expect(server.hits.get(pkg.tarballPath)).toBe(1);
    expect(existsSync(join(root, "c2", "1.0.0", "bin", "tool"))).toBe(true);
  });

  it("re-downloads when the worker's cached tarball no longer matches the integrity", async () => {
    const pkg = await fakePackage();
    await writeFile(join(workerTarballCacheDir(), `${pkg.name}-1.0.0.tgz`), "corrupted");
    const result = await installFromRegistry(ctx(), {
      agent: "tool",
      packageName: () => pkg.name,
      binaryInPackage: "bin/tool",
      cacheDir: join(root, "c3"),
      registry: server.url,
    });
    expect(server.hits.get(pkg.tarballPath)).toBe(1);
    expect(await readFile(result.binaryPath, "utf8")).toContain("fake 1.0");
  });

  it("refuses bytes that do not match the published integrity and installs nothing", async () => {
    const name = unique();
    const tarball = await makePackageTarball({ "bin/tool": { content: "evil" } });
    workerCacheFiles.push(join(workerTarballCacheDir(), `${name}-1.0.0.tgz`));
    publishFakePackage(server, name, "1.0.0", tarball, { integrity: sri(Buffer.from("something else")) });
    const cacheDir = join(root, "c4");
    const error = await installFromRegistry(ctx(), {
      agent: "tool",
      packageName: () => name,
      binaryInPackage: "bin/tool",
      cacheDir,
      registry: server.url,
    }).catch((e: unknown) => e);
    expect(IntegrityMismatchError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(name);
    expect(existsSync(join(cacheDir, "1.0.0"))).toBe(false);
    expect((await readdir(workerTarballCacheDir())).filter((f) => f.startsWith(name))).toEqual([]);
  });

  it("names the URL and status of a package the registry does not have", async () => {
    const name = unique();
    const error = await installFromRegistry(ctx(), {
      agent: "tool",
      packageName: () => name,
      binaryInPackage: "bin/tool",
      cacheDir: join(root, "c5"),
      registry: server.url,
    }).catch((e: unknown) => e);
    expect(PackageFetchError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ status: 404, url: `${server.url}/${name}` });
    expect((error as Error).message).toContain("404");
    expect(existsSync(join(root, "c5"))).toBe(false);
  });

  it("fails cleanly when the tarball download fails, leaving no partial files", async () => {
    const pkg = await fakePackage();
    server.route(pkg.tarballPath, 500, "boom");
    const error = await installFromRegistry(ctx(), {
      agent: "tool",
      packageName: () => pkg.name,
      binaryInPackage: "bin/tool",
      cacheDir: join(root, "c6"),
      registry: server.url,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "package_fetch_failed", status: 500, url: `${server.url}${pkg.tarballPath}` });
    expect((await readdir(workerTarballCacheDir())).filter((f) => f.startsWith(pkg.name))).toEqual([]);
    expect(existsSync(join(root, "c6", "1.0.0"))).toBe(false);
  });

  it("names the missing file when the package does not hold the binary", async () => {
    const pkg = await fakePackage();
    const cacheDir = join(root, "c7");
    const error = await installFromRegistry(ctx(), {
      agent: "tool",
      packageName: () => pkg.name,
      binaryInPackage: "bin/other",
      cacheDir,
      registry: server.url,
    }).catch((e: unknown) => e);
    expect((error as Error).message).toContain("package/bin/other");
    expect(await readdir(cacheDir)).toEqual([]);
  });

  it("installs a platform-versioned package: version from another package's latest, several files and a folder, the package layout kept", async () => {
    const name = unique();
    const launcher = `${name}-launcher`;
    const platform = await detectHostPlatform(host);
    const triple = `${platform.arch === "x64" ? "x86_64" : "aarch64"}-unknown-${platform.os}-${platform.libc === "musl" ? "musl" : "gnu"}`;
    const build = await makePackageTarball({
      [`vendor/${triple}/bin/tool`]: { content: "#!/bin/sh\necho tool 3.1\n", mode: 0o755 },
      [`vendor/${triple}/tool-path/rg`]: { content: "#!/bin/sh\necho rg\n", mode: 0o755 },
      [`vendor/${triple}/tool-resources/helper`]: { content: "helper", mode: 0o644 },
      [`vendor/${triple}/tool-resources/nested/data.json`]: { content: "{}" },
      "vendor/other-triple/bin/tool": { content: "wrong platform" },
      "README.md": { content: "not taken" },
    });
    const other = await makePackageTarball({ "bin/tool": { content: "the launcher, not the build" } });
    const platformVersion = `3.1.0-${platform.os}-${platform.arch}`;
    workerCacheFiles.push(join(workerTarballCacheDir(), `${name}-${platformVersion}.tgz`));
    const { tarballPaths } = publishFakeVersions(server, name, {
      versions: { "3.1.0": other, [platformVersion]: build },
    });
    publishFakeVersions(server, launcher, { latest: "3.1.0", versions: { "3.1.0": other } });
    const cacheDir = join(root, "c8");
    const spec = {
      agent: "tool",
      packageName: name,
      latestFrom: launcher,
      packageVersion: (v: string, p: { os: string; arch: string }) => `${v}-${p.os}-${p.arch}`,
      binaryInPackage: () => `vendor/${triple}/bin/tool`,
      files: () => [`vendor/${triple}/tool-path/rg`, `vendor/${triple}/tool-resources/`],
      cacheDir,
      registry: server.url,
    };
    const result = await installFromRegistry(ctx(), spec);
    const versionDir = join(cacheDir, "3.1.0");
    expect(result).toEqual({ binaryPath: join(versionDir, "vendor", triple, "bin", "tool"), version: "3.1.0" });
    expect((await host.runChecked(result.binaryPath)).stdout).toBe("tool 3.1\n");
    expect((await host.runChecked(join(versionDir, "vendor", triple, "tool-path", "rg"))).stdout).toBe("rg\n");
    expect(await readFile(join(versionDir, "vendor", triple, "tool-resources", "helper"), "utf8")).toBe("helper");
    expect((await stat(join(versionDir, "vendor", triple, "tool-resources", "helper"))).mode & 0o777).toBe(0o644);
    expect(await readFile(join(versionDir, "vendor", triple, "tool-resources", "nested", "data.json"), "utf8")).toBe(
      "{}",
    );
    expect(existsSync(join(versionDir, "README.md"))).toBe(false);
    expect(await readdir(join(versionDir, "vendor"))).toEqual([triple]);
    expect(server.hits.get(tarballPaths["3.1.0"] ?? "")).toBeUndefined();
    expect(server.hits.get(tarballPaths[platformVersion] ?? "")).toBe(1);
    // Pinned and cached: no registry request at all.
    const before = new Map(server.hits);
    expect(await installFromRegistry(ctx(), { ...spec, version: "3.1.0" })).toEqual(result);
    expect(server.hits).toEqual(before);
  });

  it("names every missing path of a multi-file package and publishes nothing", async () => {
    const pkg = await fakePackage();
    const cacheDir = join(root, "c9");
    const spec = {
      agent: "tool",
      packageName: pkg.name,
      binaryInPackage: "bin/tool",
      files: ["lib/", "bin/rg"],
      cacheDir,
      registry: server.url,
    };
    const error = await installFromRegistry(ctx(), spec).catch((e: unknown) => e);
    expect(PackageFetchError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain("package/lib, package/bin/rg");
    expect(await readdir(cacheDir)).toEqual([]);
  });
});

describe("packagePerPlatform", () => {
  it("names one package per platform, with -musl only on musl", () => {
    const spec = packagePerPlatform({ agent: "x", prefix: "@scope/x", binaryInPackage: "bin/x" });
    expect(spec).toMatchObject({ agent: "x", binaryInPackage: "bin/x" });
    expect(spec.packageName({ os: "linux", arch: "x64", libc: "glibc" })).toBe("@scope/x-linux-x64");
    expect(spec.packageName({ os: "linux", arch: "arm64", libc: "musl" })).toBe("@scope/x-linux-arm64-musl");
    expect(spec.packageName({ os: "darwin", arch: "arm64", libc: null })).toBe("@scope/x-darwin-arm64");
  });
});
