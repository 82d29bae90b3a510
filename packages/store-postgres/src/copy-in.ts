import type pg from "pg";

const COPY_DATA = 0x64;
const COPY_DONE = Buffer.from([0x63, 0, 0, 0, 4]);
const COPY_FAIL = 0x66;

interface Settlement {
  promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

/** A promise with its settling functions; a rejection nobody awaited yet is not an unhandled one. */
function settlement(): Settlement {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/**
 * One `COPY … FROM STDIN` on a pg client (`client.query(copy)`), fed by
 * `write` and finished by `end` or `fail`. Each piece goes straight to the
 * connection's socket, and `write` resolves only once the socket has handed it
 * to the kernel: the caller may then reuse its buffer, and nothing is copied or
 * queued on the way. A statement with the bytes as a parameter would have pg
 * copy every chunk into a buffer of its own, dead a moment later, and a stream
 * of such chunks leaves tens of MB behind before the collector frees them.
 */
export class CopyIn implements pg.Submittable {
  private connection: pg.Connection | undefined;
  private failure: Error | undefined;
  /** Settles when the server enters COPY mode (CopyInResponse), or refuses the statement. */
  private readonly accepted = settlement();
  /** Settles when the server has ended the COPY (ReadyForQuery), or on the first error. */
  private readonly finished = settlement();

  constructor(readonly text: string) {}

  submit(connection: pg.Connection): void {
    this.connection = connection;
    connection.query(this.text);
  }

  handleCopyInResponse(): void {
    this.accepted.resolve();
  }

  handleError(error: Error): void {
    this.failure ??= error;
    this.accepted.reject(error);
    this.finished.reject(error);
  }

  handleCommandComplete(): void {}

  handleReadyForQuery(): void {
    if (this.failure) this.finished.reject(this.failure);
    else this.finished.resolve();
  }

  /** Sends `pieces` as one CopyData message; resolves once the socket has taken all of it. */
  async write(...pieces: Uint8Array[]): Promise<void> {
    await this.accepted.promise;
    const length = pieces.reduce((sum, piece) => sum + piece.byteLength, 0);
    const head = Buffer.allocUnsafe(5);
    head[0] = COPY_DATA;
    head.writeUInt32BE(length + 4, 1);
    await this.send(head, ...pieces);
  }

  /** Ends the COPY; resolves once the server has taken every row, rejects with its error. */
  async end(): Promise<void> {
    await this.accepted.promise;
    await this.send(COPY_DONE);
    await this.finished.promise;
  }

  /** Abandons the COPY: the server refuses it, so the transaction it is in keeps none of its rows. */
  async fail(reason: string): Promise<void> {
    if (this.failure || !this.connection) return;
    const message = Buffer.from(`${reason}\0`, "utf8");
    const head = Buffer.allocUnsafe(5);
    head[0] = COPY_FAIL;
    head.writeUInt32BE(message.byteLength + 4, 1);
    await this.send(head, message).catch(() => {});
    await this.finished.promise.catch(() => {});
  }

  private send(...pieces: Uint8Array[]): Promise<void> {
    const socket = this.connection?.stream;
    if (!socket) return Promise.reject(new Error("the COPY was not submitted"));
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const last = pieces.length - 1;
      pieces.forEach((piece, i) => {
        if (i < last) socket.write(piece);
        else
          socket.write(piece, (error) => {
            if (!error) return resolve();
            // A socket that fails a write has lost the server, whatever pg makes of it.
            reject(this.failure ?? new Error(`Connection terminated during COPY: ${error.message}`, { cause: error }));
          });
      });
    });
  }
}
