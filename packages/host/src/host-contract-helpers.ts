import type { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import * as tar from "tar-stream";
import type { Host, ProcessHandle } from "./host.js";
import { splitLines } from "./line-splitter.js";

export type TarEntry = {
  name: string;
  type?: "file" | "directory" | "symlink" | "link" | "fifo" | "character-device";
  linkname?: string;
  body?: string;
  pax?: Record<string, string>;
};

/** Polls `check` until it returns a value other than undefined/false, failing after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function tarGz(entries: TarEntry[], truncate = 0): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries)
    pack.entry({ name: e.name, type: e.type ?? "file", linkname: e.linkname, pax: e.pax }, e.body ?? "");
  pack.finalize();
  const gz = gzipSync(await collect(pack as unknown as Readable));
  return truncate > 0 ? gz.subarray(0, gz.length - truncate) : gz;
}

export async function archiveEntries(
  archive: Buffer,
): Promise<Map<string, { type: string; mode: number; linkname: string | null }>> {
  const { gunzipSync } = await import("node:zlib");
  const extract = tar.extract();
  const out = new Map<string, { type: string; mode: number; linkname: string | null }>();
  const done = (async () => {
    for await (const entry of extract) {
      const name = entry.header.name.replace(/^(\.\/)+/, "").replace(/\/$/, "");
      if (name !== "" && name !== ".")
        out.set(name, { type: entry.header.type, mode: entry.header.mode, linkname: entry.header.linkname || null });
      entry.resume();
    }
  })();
  extract.end(gunzipSync(archive));
  await done;
  return out;
}

/** Pids among `pids` that still exist on the host and are not zombies (a zombie reaped between `kill -0` and `ps` has no state: gone). */
export async function livePids(host: Host, pids: number[]): Promise<number[]> {
  const script = `for p in ${pids.join(" ")}; do if kill -0 "$p" 2>/dev/null; then s=$(ps -o stat= -p "$p" 2>/dev/null); case "$s" in ""|Z*) ;; *) echo "$p" ;; esac; fi; done`;
  const result = await host.runChecked(script);
  return result.stdout.split("\n").filter(Boolean).map(Number);
}

/** Reads lines from a handle's stdout until `count` of them have arrived. */
export async function readLines(handle: ProcessHandle, count: number): Promise<string[]> {
  const lines: string[] = [];
  if (count === 0) return lines;
  for await (const line of splitLines(handle.stdout)) {
    lines.push(line);
    if (lines.length === count) break;
  }
  return lines;
}

/** A name with every character a shell quote must survive. */
export const WEIRD = `sp ace 'q' "dq" $HOME \`echo no\` \\ tab\there\nline2`;

/** What the contract's parts share, filled in before their tests run. */
export interface ContractScope {
  host: Host;
  /** A directory on the worker for the test's own files. */
  scratch: string;
}

/**
 * The suite's host, for a part of the contract to declare its tests with: the
 * suite connects it in its beforeAll, after every part is declared, so each
 * use reads it from the scope at that moment.
 */
export function scopedHost(scope: ContractScope): Host {
  return new Proxy({} as Host, {
    get(_target, property) {
      const value: unknown = Reflect.get(scope.host, property, scope.host);
      return typeof value === "function" ? value.bind(scope.host) : value;
    },
  });
}
