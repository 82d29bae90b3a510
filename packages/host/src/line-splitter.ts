/**
 * Cuts a byte stream into lines. Bytes are kept until their newline arrives,
 * so a multi-byte UTF-8 character split across chunks decodes whole; `\n` is
 * dropped, `\r` is kept. Partial data is held as a list of chunks and joined
 * once, so a long line costs O(length), and many short lines in one chunk
 * cost one scan.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** Complete lines ended by this chunk, in order. */
  push(chunk: Uint8Array): string[] {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const lines: string[] = [];
    let start = 0;
    let nl = buf.indexOf(10, start);
    while (nl !== -1) {
      if (this.pendingBytes > 0) {
        this.pending.push(buf.subarray(start, nl));
        lines.push(Buffer.concat(this.pending).toString("utf8"));
        this.pending = [];
        this.pendingBytes = 0;
      } else {
        lines.push(buf.toString("utf8", start, nl));
      }
      start = nl + 1;
      nl = buf.indexOf(10, start);
    }
    if (start < buf.length) {
      // Copy: the caller may reuse its read buffer.
      this.pending.push(Buffer.from(buf.subarray(start)));
      this.pendingBytes += buf.length - start;
    }
    return lines;
  }

  /** Bytes held after the last newline. */
  get partialBytes(): number {
    return this.pendingBytes;
  }

  /** The held partial line (null when none), clearing it. */
  flush(): string | null {
    if (this.pendingBytes === 0) return null;
    const rest = Buffer.concat(this.pending).toString("utf8");
    this.pending = [];
    this.pendingBytes = 0;
    return rest;
  }

  reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
  }
}

export interface SplitLinesOptions {
  /** Yield a last line that has no newline when the source ends. Default true. */
  trailing?: boolean;
}

/** Lines of a byte stream (a Readable or any async iterable of chunks). */
export async function* splitLines(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: SplitLinesOptions = {},
): AsyncGenerator<string, void, undefined> {
  const splitter = new LineSplitter();
  for await (const chunk of source) {
    const lines = splitter.push(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk);
    for (const line of lines) yield line;
  }
  if (options.trailing ?? true) {
    const rest = splitter.flush();
    if (rest !== null) yield rest;
  }
}
