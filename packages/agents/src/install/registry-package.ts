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
import { IntegrityMismatchError, PackageFetchError } from "./install-errors.js";
import { agentCacheDir, CACHE_MANIFEST, completeCachedBinary, publishDir, type CacheManifest } from "./version-cache.js";

/** What an installer needs from a HookContext. */
export type InstallContext = Pick<HookContext, "host" | "reportProgress" | "signal">;

export interface RegistryPackageSpec {
  /** Names the host cache: `~/.cache/optio/<agent>`. */
  agent: string;
  /** The platform package to install, e.g. `@anthropic-ai/claude-code-linux-x64`. */
  packageName: (platform: HostPlatform) => string;
  /** The executable's path inside the package (without the leading `package/`). */
  binaryInPackage: string;
  /** Default: the package's `latest` dist-tag. */
  version?: string;
  /** Default https://registry.npmjs.org. */
  registry?: string;
  /** Host dir holding `<version>/<binary>`; default `~/.cache/optio/<agent>`. */
  cacheDir?: string;
}

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
export async function installFromRegistry(ctx: InstallContext, spec: RegistryPackageSpec): Promise<RegistryInstallResult> {
  const { host, signal } = ctx;
  const platform = await detectHostPlatform(host, { signal });
  const name = spec.packageName(platform);
  const cacheDir = await agentCacheDir(host, spec.agent, spec.cacheDir);
  const binaryName = posix.basename(spec.binaryInPackage);

  if (spec.version) {
    const cached = await completeCachedBinary(host, posix.join(cacheDir, spec.version));
    if (cached) return { binaryPath: cached.binaryPath, version: spec.version };
  }

  const registry = (spec.registry ?? DEFAULT_REGISTRY).replace(/\/+$/, "");
  const { version, dist } = await resolveVersion(registry, name, spec.version, signal);
  const versionDir = posix.join(cacheDir, version);
  const cached = await completeCachedBinary(host, versionDir);
  if (cached) return { binaryPath: cached.binaryPath, version };

  const tarball = await verifiedTarball(ctx, name, version, dist);
  await host.mkdir(cacheDir);
  const tempDir = tempSibling(versionDir);
  try {
    await host.mkdir(tempDir, { mode: 0o755 });
    const size = await uploadEntry(ctx, tarball, spec.binaryInPackage, posix.join(tempDir, binaryName), `${name}@${version}`);
    const manifest: CacheManifest = { package: name, version, binary: binaryName, size };
    await host.writeText(posix.join(tempDir, CACHE_MANIFEST), JSON.stringify(manifest));
    await publishDir(host, tempDir, versionDir, platform);
  } finally {
    await host.remove(tempDir);
  }
  // Whether ours or a concurrent installer's rename won, the dir must now be complete.
  const published = await completeCachedBinary(host, versionDir);
  if (!published) throw new PackageFetchError(dist.tarball, null, `${versionDir} exists but is not a complete install of ${name}@${version}; remove it and retry`);
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
    throw new PackageFetchError(url, response.status, `fetching ${url} failed: HTTP ${response.status} ${response.statusText}`.trim());
  }
  return response;
}

async function resolveVersion(registry: string, name: string, wanted: string | undefined, signal: AbortSignal): Promise<{ version: string; dist: Dist }> {
  const url = `${registry}/${name.replace("/", "%2f")}`;
  const response = await fetchOk(url, signal, { accept: "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8" });
  const packument = (await response.json()) as { "dist-tags"?: Record<string, string>; versions?: Record<string, { dist?: Dist }> };
  const version = wanted ?? packument["dist-tags"]?.latest;
  const dist = version ? packument.versions?.[version]?.dist : undefined;
  if (!version || !dist?.tarball) {
    throw new PackageFetchError(url, null, `${name}${version ? `@${version}` : ""} is not published in ${registry}`);
  }
  return { version, dist };
}

/** The strongest digest the registry gave us, as a fresh hash plus the expected value. */
function expectedDigest(name: string, dist: Dist): { algorithm: string; expected: string; encoding: "base64" | "hex" } {
  const candidates = (dist.integrity ?? "").split(/\s+/).filter(Boolean);
  for (const algorithm of ["sha512", "sha384", "sha256"]) {
    const found = candidates.find((c) => c.startsWith(`${algorithm}-`));
    if (found) return { algorithm, expected: found.slice(algorithm.length + 1).replace(/\?.*$/, ""), encoding: "base64" };
  }
  if (dist.shasum) return { algorithm: "sha1", expected: dist.shasum.toLowerCase(), encoding: "hex" };
  throw new IntegrityMismatchError(`${name}: the registry published no integrity for ${dist.tarball}; refusing to install unverified bytes`);
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
    const progress = progressReporter(ctx, `Downloading ${name}@${version}`, Number.isFinite(length) && length > 0 ? length : null);
    try {
      await pipeline(
        Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
        hashingTransform(hash, progress),
        createWriteStream(part, { mode: 0o644 }),
        { signal: ctx.signal },
      );
    } catch (error) {
      ctx.signal.throwIfAborted();
      throw new PackageFetchError(dist.tarball, null, `downloading ${dist.tarball} failed: ${(error as Error).message}`, { cause: error });
    }
    const actual = hash.digest(encoding);
    if (actual !== expected) {
      throw new IntegrityMismatchError(`${name}@${version}: ${dist.tarball} has ${algorithm} ${actual}, the registry says ${expected}; nothing was installed`);
    }
    await rename(part, path);
    return path;
  } finally {
    await rm(part, { force: true });
  }
}

/** Streams `package/<entry>` out of the tarball into `target` on the host (mode 0755); returns its size. */
async function uploadEntry(ctx: InstallContext, tarball: string, entry: string, target: string, label: string): Promise<number> {
  const host: Host = ctx.host;
  const extract = tarExtract();
  const source = createReadStream(tarball).pipe(createGunzip());
  source.on("error", (error) => extract.destroy(error));
  source.pipe(extract);
  let size: number | null = null;
  try {
    for await (const item of extract) {
      const inPackage = item.header.name.split("/").slice(1).join("/");
      if (size === null && item.header.type === "file" && inPackage === entry) {
        const progress = progressReporter(ctx, `Copying ${label} to the host`, item.header.size ?? null);
        let previous = 0;
        const result = await host.putFile(target, item as AsyncIterable<Uint8Array>, {
          mode: 0o755,
          signal: ctx.signal,
          onProgress: (sent) => {
            progress(sent - previous);
            previous = sent;
          },
        });
        size = result.bytes;
      } else {
        item.resume();
      }
    }
  } finally {
    source.destroy();
  }
  if (size === null) throw new PackageFetchError(tarball, null, `${label} has no file package/${entry}`);
  return size;
}
