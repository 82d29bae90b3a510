/** The longest line a host's tail delivers unless told otherwise. */
export const DEFAULT_TAIL_MAX_LINE_BYTES = 16 * 1024 * 1024;

/** Bytes of a cut line passed to `onLongLine`, enough to tell which line it was. */
const LONG_LINE_HEAD_BYTES = 200;

export interface LineSplitterOptions {
  /** Longest line kept, in bytes; a longer one is cut: its bytes are dropped as they arrive, never held. Default: no limit. */
  maxLineBytes?: number;
  /** Told once per cut line, with its first bytes decoded. */
  onLongLine?: (head: string) => void;
}

/**
 * Cuts a byte stream into lines. Bytes are kept until their newline arrives,
 * so a multi-byte UTF-8 character split across chunks decodes whole; `\n` is
 * dropped, `\r` is kept. Partial data is held as a list of chunks and joined
 * once, so a long line costs O(length), and many short lines in one chunk
 * cost one scan. With `maxLineBytes`, a longer line is cut as soon as it is
 * seen to be too long and the rest of it is skipped up to its newline.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Inside a cut line: everything up to the next newline is dropped. */
  private skipping = false;
  private readonly maxLineBytes: number;
  private readonly onLongLine: (head: string) => void;

  constructor(options: LineSplitterOptions = {}) {
    this.maxLineBytes = options.maxLineBytes ?? Number.POSITIVE_INFINITY;
    this.onLongLine = options.onLongLine ?? (() => {});
  }

  /** Complete lines ended by this chunk, in order. */
  push(chunk: Uint8Array): string[] {
    let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.skipping) {
      const nl = buf.indexOf(10);
      if (nl === -1) return [];
      this.skipping = false;
      buf = buf.subarray(nl + 1);
    }
    const first = buf.indexOf(10);
    if (first === -1) {
      this.hold(buf, 0);
      return [];
    }
    const last = buf.lastIndexOf(10);
    let lines: string[];
    if (this.pendingBytes > 0) {
      lines = [];
      if (this.pendingBytes + first > this.maxLineBytes) {
        this.cut(this.pending[0] as Buffer, true);
      } else {
        this.pending.push(buf.subarray(0, first));
        lines.push(Buffer.concat(this.pending).toString("utf8"));
        this.pending = [];
        this.pendingBytes = 0;
      }
      if (last > first) lines = this.splitWhole(buf, first + 1, last, lines);
    } else {
      // The common case, a chunk that starts a line: its lines are the array split makes, not copied again.
      lines = this.splitWhole(buf, 0, last, []);
    }
    this.hold(buf, last + 1);
    return lines;
  }

  /**
   * `lines` with the lines between `start` and the newline at `end` added (an empty `lines` may come back
   * replaced). Whole runs of lines are decoded in one go and cut apart: a newline byte never sits inside a
   * multi-byte character, so this decodes as line by line does.
   */
  private splitWhole(buf: Buffer, start: number, end: number, lines: string[]): string[] {
    if (end - start <= this.maxLineBytes) {
      const run = buf.toString("utf8", start, end).split("\n");
      if (lines.length === 0) return run;
      for (const line of run) lines.push(line);
      return lines;
    }
    for (let from = start; from <= end; ) {
      const nl = buf.indexOf(10, from);
      if (nl - from > this.maxLineBytes) this.cut(buf.subarray(from, nl), true);
      else lines.push(buf.toString("utf8", from, nl));
      from = nl + 1;
    }
    return lines;
  }

  /** Keeps the bytes from `start` on, copied (the caller may reuse its read buffer), or cuts the line once they are too many. */
  private hold(buf: Buffer, start: number): void {
    if (start >= buf.length) return;
    if (this.pendingBytes + buf.length - start > this.maxLineBytes) {
      this.cut(this.pendingBytes > 0 ? (this.pending[0] as Buffer) : buf.subarray(start), false);
      return;
    }
    this.pending.push(Buffer.from(buf.subarray(start)));
    this.pendingBytes += buf.length - start;
  }

  /** Drops a line (whose first bytes are `head`); unless its newline has been seen, the rest of it is skipped as it comes. */
  private cut(head: Buffer, complete: boolean): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.skipping = !complete;
    this.onLongLine(head.toString("utf8", 0, Math.min(head.length, LONG_LINE_HEAD_BYTES)));
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
    this.skipping = false;
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
