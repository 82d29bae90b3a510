import type { BlobSource } from "../spec/state-store.js";

function asChunk(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === "string") return Buffer.from(chunk, "utf8");
  throw new TypeError(`a blob source yielded ${typeof chunk}, not bytes`);
}

/**
 * Hands `source` to `sink` in blocks of at most `blockSize` bytes: small
 * chunks are gathered into one reused block, larger ones passed on in
 * slices. Archive streams yield 4 KB chunks, and a write (or a database row)
 * per chunk costs far more than one per block. A block handed to `sink` is
 * valid only until its promise settles.
 */
export async function forEachBlock(
  data: BlobSource,
  blockSize: number,
  sink: (block: Uint8Array) => Promise<void>,
): Promise<void> {
  const source: AsyncIterable<unknown> | Iterable<unknown> = data instanceof Uint8Array ? [data] : data;
  const block = Buffer.allocUnsafe(blockSize);
  let used = 0;
  for await (const item of source) {
    const chunk = asChunk(item);
    let at = 0;
    if (used === 0) {
      for (; chunk.byteLength - at >= blockSize; at += blockSize) await sink(chunk.subarray(at, at + blockSize));
    }
    while (at < chunk.byteLength) {
      const take = Math.min(blockSize - used, chunk.byteLength - at);
      block.set(chunk.subarray(at, at + take), used);
      used += take;
      at += take;
      if (used < blockSize) break;
      await sink(block);
      used = 0;
    }
  }
  if (used > 0) await sink(block.subarray(0, used));
}
