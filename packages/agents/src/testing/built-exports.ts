import { readFile } from "node:fs/promises";

/**
 * Every name a built entry (`dist/<entry>.js`) exports, sorted: its runtime
 * values, and from its `.d.ts` its types as well. A package's test compares it
 * with the curated list, so an internal name exported again fails it.
 */
export async function builtExports(entry: URL): Promise<string[]> {
  const values = Object.keys(await import(entry.href));
  const dts = await readFile(new URL(entry.href.replace(/\.js$/, ".d.ts")), "utf8");
  const declared = [...dts.matchAll(/^export (?:type )?\{([^}]*)\}/gm)].flatMap((m) =>
    (m[1] ?? "")
      .split(",")
      .map((part) => part.trim().replace(/^type\s+/, ""))
      .filter(Boolean)
      .map((part) => part.split(/\s+as\s+/).pop() ?? part),
  );
  return [...new Set([...values, ...declared])].sort();
}
