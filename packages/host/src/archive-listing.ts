import type { EntryHeader } from "./entry-checker.js";
import { ArchiveError } from "./errors.js";

/** `-vv` extraction adds a line for each directory tar makes on its own; it names nothing the archive holds. */
const CREATING_DIRECTORY = /^\S+\s+Creating directory: "/;

const TYPES: Record<string, EntryHeader["type"] | undefined> = {
  "-": "file",
  C: "contiguous-file",
  d: "directory",
  l: "symlink",
  h: "link",
  c: "character-device",
  b: "block-device",
  p: "fifo",
};

const ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, "\\": 92, '"': 34, "?": 63 };

/** A C-quoted string starting at `at` (its opening quote): its bytes decoded as UTF-8, and the index after it. */
function cString(line: string, at: number): { text: string; end: number } {
  if (line[at] !== '"') throw new ArchiveError(`unexpected tar listing (no quoted name): ${JSON.stringify(line)}`);
  const close = line.indexOf('"', at + 1);
  const escape = line.indexOf("\\", at + 1);
  // Most names have no escapes; they are taken as they are, without a per-character copy.
  if (close !== -1 && (escape === -1 || escape > close)) return { text: line.slice(at + 1, close), end: close + 1 };
  const bytes: number[] = [];
  let i = at + 1;
  while (i < line.length && line[i] !== '"') {
    const code = line.charCodeAt(i);
    if (code !== 92) {
      if (code < 0x80) bytes.push(code);
      else for (const byte of Buffer.from(String.fromCodePoint(line.codePointAt(i)!), "utf8")) bytes.push(byte);
      i += code >= 0xd800 && code <= 0xdbff ? 2 : 1;
      continue;
    }
    const next = line[i + 1] ?? "";
    const octal = /^[0-7]{1,3}/.exec(line.slice(i + 1, i + 4));
    if (octal) {
      bytes.push(Number.parseInt(octal[0], 8) & 0xff);
      i += 1 + octal[0].length;
    } else if (next in ESCAPES) {
      bytes.push(ESCAPES[next]!);
      i += 2;
    } else {
      throw new ArchiveError(`unexpected escape \\${next} in tar listing: ${JSON.stringify(line)}`);
    }
  }
  if (i >= line.length) throw new ArchiveError(`unterminated name in tar listing: ${JSON.stringify(line)}`);
  return { text: Buffer.from(bytes).toString("utf8"), end: i + 1 };
}

/** Mode, owner, size, date, time, then the quoted name. */
const PREFIX = /^(\S)\S{9}\s+\S+\s+(\S+)\s+\S+\s+\S+\s+(?=")/;

/**
 * One line of extractCommand's listing as a header for EntryChecker, or null
 * for a line of tar's own about a directory it made. Only what the checks
 * need is filled in: name, type, size and link target.
 */
export function parseListingLine(line: string): EntryHeader | null {
  if (CREATING_DIRECTORY.test(line)) return null;
  const prefix = PREFIX.exec(line);
  if (!prefix) throw new ArchiveError(`unexpected tar listing line: ${JSON.stringify(line)}`);
  const name = cString(line, prefix[0].length);
  const type = TYPES[prefix[1]!];
  if (type === undefined)
    throw new ArchiveError(`archive entry ${JSON.stringify(name.text)} has an unsupported type (${prefix[1]})`);
  const header: EntryHeader = { name: name.text, type };
  if (/^\d+$/.test(prefix[2]!)) header.size = Number(prefix[2]);
  const rest = line.slice(name.end);
  if (type === "symlink" || type === "link") {
    const joiner = type === "symlink" ? " -> " : " link to ";
    if (!rest.startsWith(joiner))
      throw new ArchiveError(`tar listing of ${JSON.stringify(name.text)} has no link target: ${JSON.stringify(line)}`);
    const target = cString(line, name.end + joiner.length);
    if (target.end !== line.length)
      throw new ArchiveError(`unexpected text after a link target in tar listing: ${JSON.stringify(line)}`);
    header.linkname = target.text;
  } else if (rest !== "") {
    throw new ArchiveError(`unexpected text after a name in tar listing: ${JSON.stringify(line)}`);
  }
  return header;
}
