import { createHash, randomBytes, type Hash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { join, posix } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { createGunzip } from "node:zlib";
import { tempSibling, type Host } from "@optio/host";
import { extract as tarExtract } from "tar-stream";
import type { HookContext } from "../spec/hook-context.js";
import { detectHostPlatform, type HostPlatform } from "./host-platform.js";
import { IntegrityMismatchError, InvalidRegistrySpecError, PackageFetchError } from "./install-errors.js";
import {
  agentCacheDir,
  CACHE_MANIFEST,
  completeCachedBinary,
  publishDir,
  type CacheManifest,
} from "./version-cache.js";

/** What an installer needs from a HookContext. */
export type InstallContext = Pick<HookContext, "host" | "reportProgress" | "signal">;

/** A value that is fixed, or chosen by the host's platform. */
export type PerPlatform<T> = T | ((platform: HostPlatform) => T);

/** Where an agent's executable lives in the npm registry, per host platform. */
export interface RegistryPackageSpec {
  /** Names the host cache: `~/.cache/optio/<agent>`. */
  agent: string;
  /** The package to install, e.g. `(p) => \`@anthropic-ai/claude-code-${p.os}-${p.arch}\``. */
  packageName: PerPlatform<string>;
  /** The executable's path inside the package (without the leading `package/`). */
  binaryInPackage: PerPlatform<string>;
  /**
   * More files or folders inside the package to install beside the
   * executable, at the same paths; a folder brings everything under it.
   */
  files?: PerPlatform<readonly string[]>;
  /** The agent version; default: the `latest` dist-tag of `latestFrom`. */
  version?: string;
  /** The package whose `latest` dist-tag names the version when none is pinned; default `packageName`. */
  latestFrom?: string;
  /**
   * The version of `packageName` holding this platform's build of the agent
   * version, for packages that publish each platform as a version
   * (`@openai/codex@0.171.0-linux-x64`); default: the agent version.
   */
  packageVersion?: (version: string, platform: HostPlatform) => string;
  /** Default https://registry.npmjs.org. */
  registry?: string;
  /** Host dir holding `<version>/<files>`; default `~/.cache/optio/<agent>`. */
  cacheDir?: string;
}

/** An agent published as one npm package per platform, `<prefix>-<os>-<arch>[-musl]`, its executable at one path in each. */
export interface PackagePerPlatform {
  /** Names the host cache: `~/.cache/optio/<agent>`. */
  agent: string;
  /** The package names' common start, e.g. `@anthropic-ai/claude-code`. */
  prefix: string;
  /** The executable's path inside each package (without the leading `package/`). */
  binaryInPackage: string;
}

/** The registry package of an agent laid out as PackagePerPlatform says (claude's and opencode's layout). */
export function packagePerPlatform(spec: PackagePerPlatform): RegistryPackageSpec & {
  packageName: (platform: HostPlatform) => string;
} {
  return {
    agent: spec.agent,
    packageName: (p) => `${spec.prefix}-${p.os}-${p.arch}${p.libc === "musl" ? "-musl" : ""}`,
    binaryInPackage: spec.binaryInPackage,
  };
}

/** What a spec names on one platform: the package, the executable and every path to take from it. */
export interface ResolvedRegistryPackage {
  packageName: string;
  binary: string;
  /** The executable first, then the other files and folders, without duplicates. */
  paths: readonly string[];
}

const forPlatform = <T>(value: PerPlatform<T>, platform: HostPlatform): T =>
  typeof value === "function" ? (value as (p: HostPlatform) => T)(platform) : value;

/** A path inside a package, relative and without `..`; a trailing `/` is dropped. */
function packagePath(field: string, path: string): string {
  const clean = posix.normalize(path).replace(/\/+$/, "");
  if (!clean || clean === "." || clean.startsWith("/") || clean === ".." || clean.startsWith("../")) {
    throw new InvalidRegistrySpecError(field, `${field}: ${JSON.stringify(path)} is not a path inside the package`);
  }
  return clean;
}

/** Evaluates a spec's per-platform fields for one host platform. */
export function resolveRegistryPackage(spec: RegistryPackageSpec, platform: HostPlatform): ResolvedRegistryPackage {
  const binary = packagePath("binaryInPackage", forPlatform(spec.binaryInPackage, platform));
  const files = (spec.files ? forPlatform(spec.files, platform) : []).map((f) => packagePath("files", f));
  return { packageName: forPlatform(spec.packageName, platform), binary, paths: [...new Set([binary, ...files])] };
}

/** True when `entry` (a path inside the package) is one of `paths` or lies in one of them. */
export function takesEntry(paths: readonly string[], entry: string): boolean {
  return paths.some((p) => entry === p || entry.startsWith(`${p}/`));
}

/** The executable `installFromRegistry` placed, and its version. */
export interface RegistryInstallResult {
  binaryPath: string;
  version: string;
}

interface Dist {
  tarball: string;
  integrity?: string;
  shasum?: string;
}

const DEFAULT_REGISTRY = "https://registry.npmjs.org";
const PROGRESS_INTERVAL_MS = 250;

/** The worker's own tarball cache; the host never needs the internet. */
export function workerTarballCacheDir(): string {
  return join(homedir(), ".cache", "optio", "registry");
}

/**
 * Installs one executable from an npm platform package: the worker fetches
 * and verifies the tarball (cached on the worker), streams the executable
 * out of it to the host, and publishes `<cacheDir>/<version>/` in one rename.
 */
export async function installFromRegistry(
  ctx: InstallContext,
  spec: RegistryPackageSpec,
): Promise<RegistryInstallResult> {
  const { host, signal } = ctx;
  const platform = await detectHostPlatform(host, { signal });
  const { packageName: name, binary, paths } = resolveRegistryPackage(spec, platform);
  const cacheDir = await agentCacheDir(host, spec.agent, spec.cacheDir);

  if (spec.version) {
    const cached = await completeCachedBinary(host, posix.join(cacheDir, spec.version));
    if (cached) return { binaryPath: cached.binaryPath, version: spec.version };
  }

  const registry = (spec.registry ?? DEFAULT_REGISTRY).replace(/\/+$/, "");
  // The version and the tarball usually come from the same packument: fetch it once.
  const packuments = new Map<string, Promise<FetchedPackument>>();
  const packumentOf = (pkg: string): Promise<FetchedPackument> => {
    const fetched = packuments.get(pkg) ?? packument(registry, pkg, signal);
    packuments.set(pkg, fetched);
    return fetched;
  };
  const version = spec.version ?? latestVersion(await packumentOf(spec.latestFrom ?? name), registry);
  const versionDir = posix.join(cacheDir, version);
  const cached = await completeCachedBinary(host, versionDir);
  if (cached) return { binaryPath: cached.binaryPath, version };

  const packageVersion = spec.packageVersion?.(version, platform) ?? version;
  const dist = publishedDist(await packumentOf(name), registry, packageVersion);
  const label = `${name}@${packageVersion}`;
  const tarball = await verifiedTarball(ctx, name, packageVersion, dist);
  await host.mkdir(cacheDir);
  const tempDir = tempSibling(versionDir);
  try {
    await host.mkdir(tempDir, { mode: 0o755 });
    const sizes = await uploadEntries(ctx, tarball, paths, binary, tempDir, label);
    const missing = paths.filter((p) => ![...sizes.keys()].some((entry) => takesEntry([p], entry)));
    if (missing.length)
      throw new PackageFetchError(tarball, null, `${label} has no ${missing.map((p) => `package/${p}`).join(", ")}`);
    const manifest: CacheManifest = { package: name, version: packageVersion, binary, size: sizes.get(binary) ?? 0 };
    await host.writeText(posix.join(tempDir, CACHE_MANIFEST), JSON.stringify(manifest));
    await publishDir(host, tempDir, versionDir, platform);
  } finally {
    await host.remove(tempDir);
  }
  // Whether ours or a concurrent installer's rename won, the dir must now be complete.
  const published = await completeCachedBinary(host, versionDir);
  if (!published)
    throw new PackageFetchError(
      dist.tarball,
      null,
      `${versionDir} exists but is not a complete install of ${label}; remove it and retry`,
    );
  return { binaryPath: published.binaryPath, version };
}

async function fetchOk(url: string, signal: AbortSignal, headers: Record<string, string> = {}): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { headers, signal });
  } catch (error) {
    signal.throwIfAborted();
    throw new PackageFetchError(url, null, `could not fetch ${url}: ${(error as Error).message}`, { cause: error });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new PackageFetchError(
      url,
      response.status,
      `fetching ${url} failed: HTTP ${response.status} ${response.statusText}`.trim(),
    );
  }
  return response;
}

type Packument = { "dist-tags"?: Record<string, string>; versions?: Record<string, { dist?: Dist }> };

interface FetchedPackument {
  url: string;
  name: string;
  body: Packument;
}

async function packument(registry: string, name: string, signal: AbortSignal): Promise<FetchedPackument> {
  const url = `${registry}/${name.replace("/", "%2f")}`;
  const response = await fetchOk(url, signal, {
    accept: "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8",
  });
  return { url, name, body: (await response.json()) as Packument };
}

function latestVersion({ url, name, body }: FetchedPackument, registry: string): string {
  const latest = body["dist-tags"]?.latest;
  if (!latest) throw new PackageFetchError(url, null, `${name} has no latest dist-tag in ${registry}`);
  return latest;
}

function publishedDist({ url, name, body }: FetchedPackument, registry: string, version: string): Dist {
  const dist = body.versions?.[version]?.dist;
  if (!dist?.tarball) throw new PackageFetchError(url, null, `${name}@${version} is not published in ${registry}`);
  return dist;
}

/** The strongest digest the registry gave us, as a fresh hash plus the expected value. */
function expectedDigest(name: string, dist: Dist): { algorithm: string; expected: string; encoding: "base64" | "hex" } {
  const candidates = (dist.integrity ?? "").split(/\s+/).filter(Boolean);
  for (const algorithm of ["sha512", "sha384", "sha256"]) {
    const found = candidates.find((c) => c.startsWith(`${algorithm}-`));
    if (found)
      return { algorithm, expected: found.slice(algorithm.length + 1).replace(/\?.*$/, ""), encoding: "base64" };
  }
  if (dist.shasum) return { algorithm: "sha1", expected: dist.shasum.toLowerCase(), encoding: "hex" };
  throw new IntegrityMismatchError(
    `${name}: the registry published no integrity for ${dist.tarball}; refusing to install unverified bytes`,
  );
}

function hashingTransform(hash: Hash, onBytes?: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      onBytes?.(chunk.length);
      done(null, chunk);
    },
  });
}

function progressReporter(ctx: InstallContext, label: string, total: number | null): (n: number) => void {
  let sent = 0;
  let last = 0;
  const mb = (n: number) => (n / 1e6).toFixed(1);
  return (n) => {
    sent += n;
    const now = Date.now();
    if (now - last < PROGRESS_INTERVAL_MS && sent !== total) return;
    last = now;
    ctx.reportProgress(null, `${label} ${mb(sent)}${total ? `/${mb(total)}` : ""} MB`);
  };
}

async function digestOfFile(path: string, algorithm: string, encoding: "base64" | "hex"): Promise<string | null> {
  const hash = createHash(algorithm);
  try {
    await pipeline(createReadStream(path), hashingTransform(hash), async function* (source) {
      for await (const _ of source) void _;
    });
  } catch {
    return null;
  }
  return hash.digest(encoding);
}

/** A worker-local path to the package tarball whose bytes match the registry's integrity. */
async function verifiedTarball(ctx: InstallContext, name: string, version: string, dist: Dist): Promise<string> {
  const { algorithm, expected, encoding } = expectedDigest(name, dist);
  const dir = workerTarballCacheDir();
  const path = join(dir, `${name.replace("/", "+")}-${version}.tgz`);
  if ((await digestOfFile(path, algorithm, encoding)) === expected) return path;

  await mkdir(dir, { recursive: true });
  const part = `${path}.${randomBytes(6).toString("hex")}.part`;
  try {
    const response = await fetchOk(dist.tarball, ctx.signal);
    const length = Number(response.headers.get("content-length"));
    const hash = createHash(algorithm);
    const progress = progressReporter(
      ctx,
      `Downloading ${name}@${version}`,
      Number.isFinite(length) && length > 0 ? length : null,
    );
    try {
      await pipeline(
        Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
        hashingTransform(hash, progress),
        createWriteStream(part, { mode: 0o644 }),
        { signal: ctx.signal },
      );
    } catch (error) {
      ctx.signal.throwIfAborted();
      throw new PackageFetchError(
        dist.tarball,
        null,
        `downloading ${dist.tarball} failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const actual = hash.digest(encoding);
    if (actual !== expected) {
      throw new IntegrityMismatchError(
        `${name}@${version}: ${dist.tarball} has ${algorithm} ${actual}, the registry says ${expected}; nothing was installed`,
      );
    }
    await rename(part, path);
    return path;
  } finally {
    await rm(part, { force: true });
  }
}

/**
 * Streams every file of the tarball under one of `paths` to the same path
 * under `targetDir` on the host (the executable 0755, others keep their
 * mode); returns each file's size by its path in the package.
 */
async function uploadEntries(
  ctx: InstallContext,
  tarball: string,
  paths: readonly string[],
  binary: string,
  targetDir: string,
  label: string,
): Promise<Map<string, number>> {
  const host: Host = ctx.host;
  const extract = tarExtract();
  const source = createReadStream(tarball).pipe(createGunzip());
  source.on("error", (error) => extract.destroy(error));
  source.pipe(extract);
  const sizes = new Map<string, number>();
  try {
    for await (const item of extract) {
      const inPackage = posix.normalize(item.header.name.split("/").slice(1).join("/"));
      const wanted =
        item.header.type === "file" &&
        !inPackage.startsWith("../") &&
        !sizes.has(inPackage) &&
        takesEntry(paths, inPackage);
      if (!wanted) {
        item.resume();
        continue;
      }
      const progress = progressReporter(ctx, `Copying ${label} to the host`, item.header.size ?? null);
      let previous = 0;
      const result = await host.putFile(posix.join(targetDir, inPackage), item as AsyncIterable<Uint8Array>, {
        mode: inPackage === binary ? 0o755 : (item.header.mode ?? 0o644) & 0o755,
        signal: ctx.signal,
        onProgress: (sent) => {
          progress(sent - previous);
          previous = sent;
        },
      });
      sizes.set(inPackage, result.bytes);
    }
  } finally {
    source.destroy();
  }
  return sizes;
}
