import type { Host, RestoreOptions } from "@optio/host";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import zlib from "node:zlib";
import * as tar from "tar-stream";
import type { AdapterContext, SeedManifest } from "../spec/agent-adapter.js";
import type { BlobTransform } from "../spec/config.js";
import type { SeedRecord, StateStore } from "../spec/state-store.js";
import { bytesStream, readAllBytes, safeRelativePath } from "../resume/blob-bytes.js";
import {
  DecryptMissingError,
  ResumePathError,
  SeedContentError,
  SeedError,
  UnknownSeedError,
} from "../resume/resume-errors.js";

/** The agent's HOME inside the workdir; seed entries live under it. */
const HOME_DIR = "home";

/** The manifest's paths relative to HOME; each must name something under `home/` (paths are workdir-relative, as private paths are). */
function includePaths(manifest: Pick<SeedManifest, "include">): string[] {
  return manifest.include.map((p) => {
    const path = safeRelativePath(p, "seed include path");
    if (!path.startsWith(`${HOME_DIR}/`))
      throw new ResumePathError(
        `seed include path must be under ${HOME_DIR}/ (relative to the workdir): ${JSON.stringify(p)}`,
      );
    return path.slice(HOME_DIR.length + 1);
  });
}

export interface CaptureSeedOptions {
  host: Host;
  store: StateStore;
  /** The adapter id, e.g. "claudecode". */
  agent: string;
  /** The session the seed is taken from. */
  sourceProcessId: string;
  manifest: Pick<SeedManifest, "include">;
  /** `config.sessionBlobEncrypt`: a seed holds a login, so it is encrypted like the private blob. */
  encrypt?: BlobTransform;
}

/**
 * Saves the manifest's include paths (those that exist) from the agent's
 * HOME as a seed: a login, settings, plugins, never transcripts. An empty
 * seed is valid. Take it before `captureSnapshot`, which removes the
 * private paths from the workdir.
 */
export async function captureSeed(options: CaptureSeedOptions): Promise<SeedRecord> {
  const { host, store, agent, sourceProcessId, encrypt } = options;
  const include = includePaths(options.manifest).map((p) => `${HOME_DIR}/${p}`);
  let blobId: string | undefined;
  try {
    const archive = host.archiveWorkdir({ include, exclude: [] });
    if (encrypt) {
      const encrypted = await encrypt(await readAllBytes(archive));
      if (!(encrypted instanceof Uint8Array)) throw new TypeError("sessionBlobEncrypt must return a Uint8Array");
      blobId = await store.putBlob(encrypted);
    } else {
      try {
        blobId = await store.putBlob(archive);
      } finally {
        if (!archive.readableEnded) archive.destroy();
      }
    }
    return await store.insertSeed({
      agent,
      createdAt: new Date().toISOString(),
      blobId,
      encrypted: Boolean(encrypt),
      sourceProcessId,
    });
  } catch (error) {
    if (blobId !== undefined) await store.deleteBlob(blobId).catch(() => undefined);
    throw new SeedError(`capturing a seed from ${sourceProcessId} failed`, { cause: error });
  }
}

/** Why `name` may not be in a seed with these include paths, or null when it may. */
function entryProblem(name: string, type: string, include: readonly string[]): string | null {
  if (name.includes("\0")) return "has a NUL byte in its path";
  if (name.startsWith("/")) return "has an absolute path";
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) return 'leaves the workdir through ".."';
  if (parts.length === 0) return type === "directory" ? null : "has no name";
  if (parts[0] !== HOME_DIR) return `is outside ${HOME_DIR}/`;
  const rel = parts.slice(1).join("/");
  if (rel === "") return type === "directory" ? null : `replaces ${HOME_DIR}/ itself`;
  for (const path of include) {
    if (rel === path || rel.startsWith(`${path}/`)) return null;
    if (type === "directory" && path.startsWith(`${rel}/`)) return null;
  }
  return "is not in the seed manifest's include set";
}

/** Reads a seed archive through and throws SeedContentError at the first entry that is not allowed. */
async function checkSeedEntries(archive: Readable, include: readonly string[], seedId: string): Promise<void> {
  const extract = tar.extract();
  extract.on("entry", (header, stream, next) => {
    const problem = entryProblem(header.name, header.type ?? "file", include);
    if (problem) {
      // The entry stream dies with the extractor; its error is the one pipeline reports.
      stream.on("error", () => undefined);
      extract.destroy(new SeedContentError(`seed ${seedId}: entry ${JSON.stringify(header.name)} ${problem}`));
      return;
    }
    stream.on("end", () => next());
    stream.resume();
  });
  try {
    await pipeline(archive, zlib.createGunzip(), extract);
  } catch (error) {
    if (SeedContentError.isInstance(error)) throw error;
    throw new SeedError(`seed ${seedId} is not a readable tar.gz (truncated or corrupt)`, { cause: error });
  }
}

export interface MergeSeedOptions {
  host: Host;
  store: StateStore;
  seedId: string;
  manifest: SeedManifest;
  /** `config.sessionBlobDecrypt`: required when the seed is encrypted. */
  decrypt?: BlobTransform;
  /** Handed to `manifest.consume`; required when the manifest has one. */
  adapterContext?: AdapterContext;
  /** When given, a seed captured by another agent is refused. */
  agent?: string;
  /** The restore's caps (`config.restoreMaxBytes`, `config.restoreMaxEntries`). */
  limits?: Pick<RestoreOptions, "maxBytes" | "maxEntries">;
}

/**
 * Lays a seed over a fresh workdir, after the adapter planted its files (the
 * seed's files win), then runs the manifest's `consume`. Every entry is
 * checked before anything is written: it must be under `home/` and inside
 * the manifest's include set. Returns the seed's record.
 */
export async function mergeSeed(options: MergeSeedOptions): Promise<SeedRecord> {
  const { host, store, seedId, manifest, decrypt, adapterContext } = options;
  const include = includePaths(manifest);
  const record = await store.getSeed(seedId);
  if (!record) throw new UnknownSeedError(`no seed has the id ${JSON.stringify(seedId)}`);
  if (options.agent !== undefined && record.agent !== options.agent) {
    throw new SeedError(`seed ${seedId} belongs to ${record.agent}, not ${options.agent}`);
  }
  if (record.encrypted && !decrypt)
    throw new DecryptMissingError(`seed ${seedId} is encrypted but no sessionBlobDecrypt was given`);
  if (manifest.consume && !adapterContext)
    throw new SeedError(`seed ${seedId}: the manifest's consume step needs an adapterContext`);

  let open: () => Promise<Readable>;
  try {
    if (record.encrypted && decrypt) {
      let bytes: Uint8Array;
      try {
        bytes = await decrypt(await readAllBytes(await store.getBlob(record.blobId)));
      } catch (error) {
        throw new SeedError(`decrypting seed ${seedId} failed`, { cause: error });
      }
      if (!(bytes instanceof Uint8Array))
        throw new SeedError(`sessionBlobDecrypt returned something other than bytes for seed ${seedId}`);
      const plain = bytes;
      open = async () => bytesStream(plain);
    } else {
      // Two passes over the store instead of buffering: one to check, one to restore.
      open = () => store.getBlob(record.blobId);
    }
    await checkSeedEntries(await open(), include, seedId);
    await host.restoreWorkdir(await open(), { ...options.limits, clear: false });
  } catch (error) {
    if (SeedError.isInstance(error) || SeedContentError.isInstance(error)) throw error;
    throw new SeedError(`merging seed ${seedId} failed`, { cause: error });
  }
  if (manifest.consume && adapterContext) {
    try {
      await manifest.consume(adapterContext);
    } catch (error) {
      throw new SeedError(`the consume step of seed ${seedId} failed`, { cause: error });
    }
  }
  return record;
}

/** Seeds, newest first, of one agent when given. */
export function listSeeds(store: StateStore, agent?: string): Promise<SeedRecord[]> {
  return store.listSeeds(agent === undefined ? undefined : { agent });
}

/**
 * Removes a seed's record and its blob; returns the record, or null when the
 * id is unknown — or, when `agent` is given, belongs to another agent.
 */
export async function deleteSeed(store: StateStore, id: string, agent?: string): Promise<SeedRecord | null> {
  if (agent !== undefined && (await store.getSeed(id))?.agent !== agent) return null;
  const record = await store.deleteSeed(id);
  if (record) await store.deleteBlob(record.blobId);
  return record;
}
