import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import zlib from "node:zlib";
import * as tar from "tar-stream";
import type { BlobTransform } from "../spec/config.js";
import { readAllBytes } from "./blob-bytes.js";

/** A fresh directory under the OS temp dir. */
export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
}

/** AES-256-GCM as a consumer would write it: `iv(12) | tag(16) | ciphertext`. */
export function aesGcm(key: Uint8Array = randomBytes(32)): { encrypt: BlobTransform; decrypt: BlobTransform } {
  return {
    encrypt(data) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const body = Buffer.concat([cipher.update(data), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]);
    },
    decrypt(data) {
      const buf = Buffer.from(data);
      const decipher = createDecipheriv("aes-256-gcm", key, buf.subarray(0, 12));
      decipher.setAuthTag(buf.subarray(12, 28));
      return Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]);
    },
  };
}

/** Writes `files` (relative path → text) under `dir`, creating parents. */
export async function writeTree(dir: string, files: Record<string, string>, mode?: number): Promise<void> {
  for (const [rel, text] of Object.entries(files)) {
    const abs = path.join(dir, rel);
    await mkdir(path.dirname(abs), { recursive: true });
    await writeFile(abs, text, mode === undefined ? undefined : { mode });
  }
}

export interface RawEntry {
  name: string;
  type?: "file" | "directory" | "symlink" | "link";
  content?: string;
  linkname?: string;
}

/** A tar.gz holding exactly these entries, names unchecked: how hostile archives are made. */
export async function rawTarGz(entries: readonly RawEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const gzip = zlib.createGzip();
  const out = readAllBytes(pack.pipe(gzip));
  for (const entry of entries) {
    const type = entry.type ?? "file";
    if (type === "file") pack.entry({ name: entry.name, mode: 0o644 }, entry.content ?? "");
    else pack.entry({ name: entry.name, type, linkname: entry.linkname, mode: type === "directory" ? 0o755 : 0o777 });
  }
  pack.finalize();
  return out;
}

/** The entry names of a tar.gz, normalized (`./a/` → `a`), with their contents for files. */
export async function readTarGz(source: Readable | Uint8Array): Promise<Map<string, string | null>> {
  const entries = new Map<string, string | null>();
  const extract = tar.extract();
  extract.on("entry", (header, stream, next) => {
    const name = header.name
      .split("/")
      .filter((p) => p !== "" && p !== ".")
      .join("/");
    const chunks: Buffer[] = [];
    stream.on("data", (c: unknown) => void chunks.push(c as Buffer));
    stream.on("end", () => {
      if (name !== "") entries.set(name, header.type === "file" ? Buffer.concat(chunks).toString("utf8") : null);
      next();
    });
  });
  const input = source instanceof Uint8Array ? [Buffer.from(source)] : source;
  await pipeline(input, zlib.createGunzip(), extract);
  return entries;
}
