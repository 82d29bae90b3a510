import { randomBytes } from "node:crypto";
import path from "node:path";

/** A hidden sibling of `target` no other writer will pick, `<dir>/.<name>.<random>.tmp`: write there, then rename over `target`. */
export function tempSibling(target: string): string {
  return path.posix.join(
    path.posix.dirname(target),
    `.${path.posix.basename(target)}.${randomBytes(6).toString("hex")}.tmp`,
  );
}
