// Runs one bench module in this (fresh) process and sends its metrics to the
// parent: one bench's heap, JIT and leftovers never weigh on the next.
import { pathToFileURL } from "node:url";

const [file] = process.argv.slice(2);
try {
  const mod = await import(pathToFileURL(file).href);
  const metrics = await mod.default();
  process.send({ metrics }, () => process.disconnect());
} catch (error) {
  process.send({ error: String(error?.stack ?? error) }, () => process.disconnect());
}
