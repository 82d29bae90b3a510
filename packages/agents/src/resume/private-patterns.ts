import { ResumePathError } from "./resume-errors.js";
import { safeRelativePath } from "./blob-bytes.js";

/** An adapter's `privatePaths`, checked and split into what is taken and what is left out. */
export interface PrivatePatterns {
  /** Patterns whose matches (and everything under them) are private. */
  readonly include: readonly string[];
  /** Patterns (`!`-prefixed in the spec) whose matches, and everything under them, are not. */
  readonly exclude: readonly string[];
  /** True when every pattern is a plain path and none is excluded: the paths go to tar as they are. */
  readonly literal: boolean;
}

/** One entry of the workdir found under a pattern's literal part. */
export interface ListedEntry {
  /** Workdir-relative path. */
  readonly path: string;
  readonly directory: boolean;
}

const hasWildcard = (part: string) => part.includes("*") || part.includes("?");

function checkPattern(raw: unknown): string {
  if (typeof raw !== "string" || raw.includes("\0"))
    throw new ResumePathError(`private path is not a usable pattern: ${JSON.stringify(raw)}`);
  const body = raw.startsWith("!") ? raw.slice(1) : raw;
  if (body.startsWith("/")) throw new ResumePathError(`private path must be relative, got ${JSON.stringify(raw)}`);
  const parts = body.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new ResumePathError(`private path must not contain "..": ${JSON.stringify(raw)}`);
  if (parts[0] !== "home" || parts.length < 2)
    throw new ResumePathError(`private path must name something under home/: ${JSON.stringify(raw)}`);
  if (parts.some((p) => p.includes("**") && p !== "**"))
    throw new ResumePathError(
      `private path uses "**" inside a name (it must be a whole segment): ${JSON.stringify(raw)}`,
    );
  return parts.join("/");
}

/**
 * Checks an adapter's resume paths: each private path is a pattern under
 * `home/` (`*` and `?` within one name, `**` for any number of folders, a
 * leading `!` to leave its matches out), each regenerable path a plain
 * workdir-relative path. Anything else is a ResumePathError naming it.
 */
export function parsePrivatePaths(
  privatePaths: readonly string[],
  regenerablePaths: readonly string[] = [],
): PrivatePatterns {
  if (!Array.isArray(privatePaths)) throw new ResumePathError("privatePaths must be a list of patterns");
  for (const p of regenerablePaths) safeRelativePath(p, "regenerable path");
  const include: string[] = [];
  const exclude: string[] = [];
  for (const raw of privatePaths) {
    const pattern = checkPattern(raw);
    (String(raw).startsWith("!") ? exclude : include).push(pattern);
  }
  const literal = exclude.length === 0 && !include.some((p) => p.split("/").some(hasWildcard));
  return { include, exclude, literal };
}

/** Where a listing for `patterns` starts: each include's leading plain folders, none inside another. */
export function listingRoots(patterns: PrivatePatterns): string[] {
  const roots = patterns.include.map((p) => {
    const parts = p.split("/");
    const first = parts.findIndex(hasWildcard);
    return (first === -1 ? parts : parts.slice(0, first)).join("/");
  });
  const within = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);
  return [...new Set(roots)].filter((root, _i, all) => !all.some((other) => other !== root && within(root, other)));
}

function nameSource(name: string): string {
  let source = "";
  for (const c of name) {
    if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else source += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return source;
}

/** A pattern as a RegExp over workdir-relative paths: `*` and `?` stay within one name, `**` spans folders. */
export function patternRegExp(pattern: string): RegExp {
  let source = "";
  const parts = pattern.split("/");
  parts.forEach((part, i) => {
    if (part === "**") source += i === parts.length - 1 ? "/.+" : "(?:/[^/]+)*";
    else source += (i === 0 ? "" : "/") + nameSource(part);
  });
  return new RegExp(`^${source}$`);
}

/** True when `path`, or a folder above it, matches one of `regexps`. */
function matchesOrUnder(path: string, regexps: readonly RegExp[]): boolean {
  const parts = path.split("/");
  for (let end = parts.length; end > 0; end--) {
    const prefix = parts.slice(0, end).join("/");
    if (regexps.some((r) => r.test(prefix))) return true;
  }
  return false;
}

/**
 * The private part of a listing, as few paths as possible: a folder whose
 * every entry is private stands for all of them, anything else is named
 * one by one. What a pattern leaves out stays in the workdir.
 */
export function selectPrivate(patterns: PrivatePatterns, entries: readonly ListedEntry[]): string[] {
  const include = patterns.include.map(patternRegExp);
  const exclude = patterns.exclude.map(patternRegExp);
  const children = new Map<string, ListedEntry[]>();
  const byPath = new Map<string, ListedEntry>();
  for (const entry of entries) {
    if (byPath.has(entry.path)) continue;
    byPath.set(entry.path, entry);
    const parent = entry.path.slice(0, Math.max(0, entry.path.lastIndexOf("/")));
    children.set(parent, [...(children.get(parent) ?? []), entry]);
  }
  const chosen = (path: string) => matchesOrUnder(path, include) && !matchesOrUnder(path, exclude);
  const whole = new Map<string, boolean>();
  const isWhole = (entry: ListedEntry): boolean => {
    const known = whole.get(entry.path);
    if (known !== undefined) return known;
    const below = entry.directory ? (children.get(entry.path) ?? []) : [];
    const all = below.map(isWhole).every(Boolean);
    const result = all && (below.length > 0 || chosen(entry.path));
    whole.set(entry.path, result);
    return result;
  };
  const selected: string[] = [];
  const visit = (entry: ListedEntry) => {
    if (isWhole(entry)) selected.push(entry.path);
    else for (const child of children.get(entry.path) ?? []) visit(child);
  };
  for (const entry of byPath.values()) {
    const parent = entry.path.slice(0, Math.max(0, entry.path.lastIndexOf("/")));
    if (!byPath.has(parent)) visit(entry);
  }
  return selected;
}

/** The plain private paths a restore may clear before laying the private blob over the workdir: those no exclude touches. */
export function replacedOnRestore(patterns: PrivatePatterns): string[] {
  const related = (a: string, b: string) => a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
  const excludeRoots = listingRoots({ include: patterns.exclude, exclude: [], literal: false });
  return patterns.include.filter(
    (p) => !p.split("/").some(hasWildcard) && !excludeRoots.some((root) => related(p, root)),
  );
}
