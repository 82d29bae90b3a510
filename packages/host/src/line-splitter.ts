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
    const first = buf.indexOf(10);
    if (first === -1) {
      this.hold(buf, 0);
      return [];
    }
    const last = buf.lastIndexOf(10);
    // Whole runs of lines are decoded in one go and cut apart: a newline byte
    // never sits inside a multi-byte character, so this decodes as line by line does.
    let lines: string[];
    if (this.pendingBytes > 0) {
      this.pending.push(buf.subarray(0, first));
      const head = Buffer.concat(this.pending).toString("utf8");
      this.pending = [];
      this.pendingBytes = 0;
      lines = last === first ? [] : buf.toString("utf8", first + 1, last).split("\n");
      lines.unshift(head);
    } else {
      lines = buf.toString("utf8", 0, last).split("\n");
    }
    this.hold(buf, last + 1);
    return lines;
  }

  /** Keeps the bytes from `start` on, copied: the caller may reuse its read buffer. */
  private hold(buf: Buffer, start: number): void {
    if (start >= buf.length) return;
    this.pending.push(Buffer.from(buf.subarray(start)));
    this.pendingBytes += buf.length - start;
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
