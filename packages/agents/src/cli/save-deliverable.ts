import { mkdir, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { PathEscapeError } from "@optio/host";

/**
 * `<baseDir>/<relativePath>`, refusing any path that would land outside
 * baseDir (absolute paths, `..` segments, NUL bytes).
 */
export function safeJoin(baseDir: string, relativePath: string): string {
  if (relativePath === "" || relativePath.includes("\0") || isAbsolute(relativePath) || relativePath.startsWith("\\")) {
    throw new PathEscapeError(`deliverable path ${JSON.stringify(relativePath)} is not a relative path`);
  }
  const base = resolve(baseDir);
  const target = resolve(base, relativePath);
  const rel = relative(base, target);
  if (rel === "" || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new PathEscapeError(`deliverable path ${JSON.stringify(relativePath)} escapes ${base}`);
  }
  return target;
}

/** Writes a deliverable's text under baseDir and returns the file's absolute path. */
export async function saveDeliverable(baseDir: string, relativePath: string, text: string): Promise<string> {
  const target = safeJoin(baseDir, relativePath);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, text, "utf8");
  return target;
}
