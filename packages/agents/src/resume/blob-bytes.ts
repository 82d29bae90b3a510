import { Readable } from "node:stream";
import { ResumePathError } from "./resume-errors.js";

/** Collects a stream into one buffer; only for small blobs (private state, seeds that must be decrypted). */
export async function readAllBytes(source: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  // No copy per chunk: the concat below is the one copy.
  for await (const chunk of source) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

/** A stream yielding `bytes` as one chunk. */
export function bytesStream(bytes: Uint8Array): Readable {
  return Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]);
}

/**
 * The normalized form of a relative path given by an adapter or the caller
 * (`a//b/./c` → `a/b/c`). Absolute paths, `..` segments, NUL bytes and the
 * empty path are refused: each could reach outside the directory it names a
 * part of.
 */
export function safeRelativePath(path: string, what: string): string {
  if (typeof path !== "string" || path.includes("\0"))
    throw new ResumePathError(`${what} is not a usable path: ${JSON.stringify(path)}`);
  if (path.startsWith("/")) throw new ResumePathError(`${what} must be relative, got ${JSON.stringify(path)}`);
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new ResumePathError(`${what} must not contain "..": ${JSON.stringify(path)}`);
  if (parts.length === 0)
    throw new ResumePathError(`${what} must name something inside its directory: ${JSON.stringify(path)}`);
  return parts.join("/");
}
