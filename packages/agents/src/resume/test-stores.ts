import type { FileHandle } from "node:fs/promises";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { type BlobSource, hasBlobFiles, type StateStore } from "../spec/state-store.js";
import type { FileStateStore } from "../store/file-state-store.js";

/** Every file under `dir` (not its directories), relative and sorted. */
export async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isDirectory()) out.push(path.relative(dir, path.join(entry.parentPath, entry.name)));
  }
  return out.sort();
}

/**
 * The store with every blob id it handed out; `failOnPut` makes that put
 * (1-based, putBlob or putBlobFile) fail, a streamed one after reading part of its input.
 */
export function trackingStore(
  inner: StateStore,
  failOnPut?: number,
): StateStore & { putIds: string[]; filePuts: number } {
  let calls = 0;
  const putIds: string[] = [];
  const tracked = Object.assign(Object.create(inner) as StateStore, {
    putIds,
    filePuts: 0,
    async putBlob(data: BlobSource): Promise<string> {
      calls += 1;
      if (calls === failOnPut) {
        if (!(data instanceof Uint8Array)) {
          for await (const _chunk of data as AsyncIterable<Uint8Array>) break;
        }
        throw new Error("store went away");
      }
      const id = await inner.putBlob(data);
      putIds.push(id);
      return id;
    },
  });
  if (hasBlobFiles(inner)) {
    Object.assign(tracked, {
      async putBlobFile(fill: (file: FileHandle) => Promise<void>): Promise<string> {
        calls += 1;
        tracked.filePuts += 1;
        if (calls === failOnPut) throw new Error("store went away");
        const id = await inner.putBlobFile(fill);
        putIds.push(id);
        return id;
      },
    });
  }
  return tracked;
}

/** `inner` seen without its blob files (its own methods still use them), so snapshots take the streaming path. */
export function streamsOnly(inner: StateStore): StateStore {
  return new Proxy(inner, {
    get(target, key) {
      if (key === "putBlobFile" || key === "openBlobFile") return undefined;
      const value: unknown = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** Both kinds of store a snapshot meets: [name, wrap a FileStateStore, whether it keeps blob files]. */
export const STORE_KINDS: Array<[string, (inner: FileStateStore) => StateStore, boolean]> = [
  ["FileStateStore, whose blob files tar writes and reads", (inner) => inner, true],
  ["a store that only streams", streamsOnly, false],
];
