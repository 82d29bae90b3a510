import { Readable } from "node:stream";
import type pg from "pg";

/** The signature, flags and header-extension length that open a binary COPY stream. */
const HEADER_BYTES = 19;
/** Bytes per buffer the stream hands out: several rows' worth, so a reader gets one buffer per read, not a join. */
const OUT_BYTES = 128 * 1024;

/**
 * One `COPY (SELECT <one bytea column> …) TO STDOUT (FORMAT binary)` on a pg
 * client (`client.query(copy)`), its column's bytes read as `stream`. pg
 * hands each CopyData message over as a view of its own receive buffer, which
 * it reuses, so the bytes are copied once into buffers of OUT_BYTES the stream
 * owns, each handed out once full, and nothing else is made per message: no
 * text, no row objects. The socket is paused while the stream's reader is
 * behind, so the server waits rather than the process buffering the blob.
 */
export class CopyOut implements pg.Submittable {
  readonly stream: Readable;
  private connection: pg.Connection | undefined;
  private failure: Error | undefined;
  private ended = false;
  /** Header bytes still to skip, then the parse state of the current tuple. */
  private skip = HEADER_BYTES;
  /** Bytes of a field-count or length word split across messages. */
  private readonly word = Buffer.alloc(4);
  private wordHave = 0;
  private wordNeed = 2;
  private expecting: "count" | "length" | "data" = "count";
  private dataLeft = 0;
  private bytes = 0;
  private out: Buffer = Buffer.allocUnsafe(OUT_BYTES);
  private outHave = 0;

  /**
   * `done` runs once the COPY has ended, with the bytes it read and the error
   * that ended it, if any; what it returns, the stream fails with, and it
   * ends cleanly when that is nothing.
   */
  constructor(
    readonly text: string,
    private readonly done: (bytes: number, error?: Error) => Error | undefined,
  ) {
    this.stream = new Readable({
      read: () => this.connection?.stream.resume(),
      destroy: (error, callback) => {
        this.finish(error ?? new Error("the blob stream was closed before its end"));
        callback(error);
      },
    });
  }

  submit(connection: pg.Connection): void {
    this.connection = connection;
    connection.query(this.text);
  }

  handleCopyData(message: { chunk: Buffer }): void {
    if (this.ended) return;
    const chunk = message.chunk;
    let at = 0;
    while (at < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        this.skip -= n;
        at += n;
      } else if (this.expecting === "data") {
        const n = Math.min(this.dataLeft, chunk.length - at);
        this.take(chunk, at, at + n);
        this.dataLeft -= n;
        at += n;
        if (this.dataLeft === 0) this.expect("count");
      } else {
        const n = Math.min(this.wordNeed - this.wordHave, chunk.length - at);
        chunk.copy(this.word, this.wordHave, at, at + n);
        this.wordHave += n;
        at += n;
        if (this.wordHave === this.wordNeed) this.onWord();
      }
    }
  }

  /** Copies `chunk[from, to)` into the buffer being filled, handing each one out as it fills up. */
  private take(chunk: Buffer, from: number, to: number): void {
    while (from < to) {
      const n = chunk.copy(this.out, this.outHave, from, to);
      this.outHave += n;
      from += n;
      if (this.outHave === OUT_BYTES) this.flush(Buffer.allocUnsafe(OUT_BYTES));
    }
  }

  /** Hands out what the buffer being filled holds, going on in `next`; pauses the socket while the reader is behind. */
  private flush(next: Buffer): void {
    const full = this.outHave === this.out.length ? this.out : this.out.subarray(0, this.outHave);
    [this.out, this.outHave] = [next, 0];
    if (full.length > 0 && !this.stream.push(full)) this.connection?.stream.pause();
  }

  private expect(what: "count" | "length"): void {
    this.expecting = what;
    this.wordHave = 0;
    this.wordNeed = what === "count" ? 2 : 4;
  }

  private onWord(): void {
    if (this.expecting === "count") {
      const fields = this.word.readInt16BE(0);
      // -1 is the trailer: every later byte of the stream is ignored.
      if (fields === -1) this.skip = Number.POSITIVE_INFINITY;
      else if (fields !== 1) this.fail(new Error(`a blob row has ${fields} columns, not 1`));
      else this.expect("length");
      return;
    }
    const length = this.word.readInt32BE(0);
    if (length < 0) return this.fail(new Error("a blob chunk is NULL"));
    this.bytes += length;
    this.dataLeft = length;
    this.expecting = "data";
    if (length === 0) this.expect("count");
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.skip = Number.POSITIVE_INFINITY;
  }

  handleError(error: Error): void {
    this.failure ??= error;
    // A connection lost mid-COPY sends no ReadyForQuery.
    this.finish(this.failure);
  }

  handleCommandComplete(): void {}

  handleReadyForQuery(): void {
    this.finish(this.failure);
  }

  private finish(error: Error | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.connection?.stream.resume();
    const failure = this.done(this.bytes, error);
    if (failure) return void this.stream.destroy(failure);
    this.flush(Buffer.alloc(0));
    this.stream.push(null);
  }
}
