import type { Readable } from "node:stream";
import { LineSplitter } from "./line-splitter.js";

/**
 * Calls `onLine` with each line of `stream` (the last one even without a
 * newline). The first throw goes to `fail` and ends the calls; the stream is
 * still drained so its writer never blocks.
 */
export function feedLines(stream: Readable, onLine: (line: string) => void, fail: (error: unknown) => void): void {
  const splitter = new LineSplitter();
  let failed = false;
  const take = (lines: readonly string[]) => {
    if (failed) return;
    try {
      for (const line of lines) onLine(line);
    } catch (error) {
      failed = true;
      fail(error);
    }
  };
  stream.on("data", (chunk: Buffer) => take(splitter.push(chunk)));
  stream.once("end", () => {
    const last = splitter.flush();
    if (last !== null) take([last]);
  });
}
