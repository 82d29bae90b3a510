import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** `SHA256:<base64 without padding>` of a raw SSH key blob, as `ssh-keygen -l` prints it. */
export function keyFingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** The key type named inside a raw SSH key blob (`ssh-ed25519`, …). */
function blobKeyType(blob: Buffer): string {
  if (blob.length < 4) return "";
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString("latin1");
}

export interface KnownHostEntry {
  marker: "" | "@revoked" | "@cert-authority";
  patterns: string[];
  keyType: string;
  key: Buffer;
}

/** Parses OpenSSH known_hosts text; lines it cannot read are skipped, as ssh does. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry["marker"] = "";
    if (fields[0] === "@revoked" || fields[0] === "@cert-authority")
      marker = fields.shift() as KnownHostEntry["marker"];
    const [hosts, keyType, keyBase64] = fields;
    if (!hosts || !keyType || !keyBase64 || !/^[A-Za-z0-9+/]+=*$/.test(keyBase64)) continue;
    entries.push({ marker, patterns: hosts.split(","), keyType, key: Buffer.from(keyBase64, "base64") });
  }
  return entries;
}

function globMatch(pattern: string, name: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`, "i").test(name);
}

function hashedMatch(pattern: string, name: string): boolean {
  const parts = pattern.split("|");
  if (parts.length !== 4 || parts[1] !== "1" || !parts[2] || !parts[3]) return false;
  const salt = Buffer.from(parts[2], "base64");
  const expected = Buffer.from(parts[3], "base64");
  const actual = createHmac("sha1", salt).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The name ssh looks a host up under: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Whether a known_hosts pattern list (comma-separated parts, `!` negations, hashes, wildcards) names `name`. */
export function knownHostsPatternsMatch(patterns: readonly string[], name: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith("!");
    const p = negated ? pattern.slice(1) : pattern;
    const hit = p.startsWith("|") ? hashedMatch(p, name) : globMatch(p, name);
    if (hit && negated) return false;
    if (hit) matched = true;
  }
  return matched;
}

export type Verdict = { ok: true } | { ok: false; expected: string[] };

/** Checks a presented host key against known_hosts entries for `host:port`. */
export function verifyAgainstKnownHosts(
  entries: readonly KnownHostEntry[],
  host: string,
  port: number,
  key: Buffer,
): Verdict {
  const name = knownHostsName(host, port);
  const type = blobKeyType(key);
  const mine = entries.filter((e) => e.marker !== "@cert-authority" && knownHostsPatternsMatch(e.patterns, name));
  const same = (e: KnownHostEntry) => e.keyType === type && e.key.equals(key);
  if (mine.some((e) => e.marker === "@revoked" && same(e))) return { ok: false, expected: [] };
  if (mine.some((e) => e.marker === "" && same(e))) return { ok: true };
  return { ok: false, expected: mine.filter((e) => e.marker === "").map((e) => keyFingerprint(e.key)) };
}
