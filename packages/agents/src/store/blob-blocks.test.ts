import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { forEachBlock } from "./blob-blocks.js";

async function blocksOf(source: Parameters<typeof forEachBlock>[0], size: number): Promise<Buffer[]> {
  const seen: Buffer[] = [];
  await forEachBlock(source, size, async (block) => {
    seen.push(Buffer.from(block));
  });
  return seen;
}

describe("forEachBlock", () => {
  it("gathers small chunks into full blocks and passes the rest last", async () => {
    const chunks = ["abc", "defgh", "ij", "k"].map((s) => Buffer.from(s));
    const blocks = await blocksOf(Readable.from(chunks), 4);
    expect(blocks.map(String)).toEqual(["abcd", "efgh", "ijk"]);
  });

  it("slices a chunk larger than a block and keeps its tail for the next", async () => {
    const blocks = await blocksOf(Readable.from([Buffer.from("a"), Buffer.from("bcdefghij"), Buffer.from("kl")]), 4);
    expect(blocks.map(String)).toEqual(["abcd", "efgh", "ijkl"]);
    expect((await blocksOf(new TextEncoder().encode("0123456789"), 4)).map(String)).toEqual(["0123", "4567", "89"]);
  });

  it("never calls the sink for an empty source and refuses a source of non-bytes", async () => {
    expect(await blocksOf(new Uint8Array(0), 4)).toEqual([]);
    await expect(blocksOf([42] as unknown as Iterable<Uint8Array> as never, 4)).rejects.toThrow(/yielded number/);
  });
});
