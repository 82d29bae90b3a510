/** What opens a binary COPY stream: the signature, no flags, no header extension. */
export const COPY_BINARY_HEADER = Buffer.concat([Buffer.from("PGCOPY\n\xff\r\n\0", "latin1"), Buffer.alloc(8)]);

/** What ends a binary COPY stream. */
export const COPY_BINARY_TRAILER = Buffer.from([0xff, 0xff]);

/** The fields of a binary COPY row of `blob_chunks (blob_id, seq, data)` that come before the chunk's bytes. */
export function chunkRowHead(blobId: Buffer, seq: number, size: number): Buffer {
  const head = Buffer.allocUnsafe(2 + 4 + blobId.byteLength + 4 + 4 + 4);
  let at = head.writeInt16BE(3, 0);
  at = head.writeInt32BE(blobId.byteLength, at);
  at += blobId.copy(head, at);
  at = head.writeInt32BE(4, at);
  at = head.writeInt32BE(seq, at);
  head.writeInt32BE(size, at);
  return head;
}
