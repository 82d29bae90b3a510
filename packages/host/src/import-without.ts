import { execFile } from "node:child_process";

// Fails the resolution of any module under node_modules/<name>/, so an import that still needs the package throws.
const refusingHooks = (name: string) => `export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (result.url.includes(${JSON.stringify(`/node_modules/${name}/`)})) throw new Error("loaded from ${name}: " + result.url);
  return result;
}`;

/**
 * Imports `moduleUrl` in a fresh Node process in which nothing may be loaded
 * from the package `name`, then runs `then` there (with the module as `m`).
 * Resolves when that worked; rejects with the child's stderr otherwise. For
 * tests proving that a built package carries what it needs of a dependency.
 */
export function importWithout(name: string, moduleUrl: string | URL, then = ""): Promise<void> {
  const hooks = `data:text/javascript,${encodeURIComponent(refusingHooks(name))}`;
  const script = [
    `import { register } from "node:module";`,
    `register(${JSON.stringify(hooks)});`,
    `const m = await import(${JSON.stringify(String(moduleUrl))});`,
    then,
  ].join("\n");
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--input-type=module", "-e", script], (error, _stdout, stderr) => {
      if (error)
        reject(new Error(`importing ${String(moduleUrl)} without ${name} failed: ${stderr.trim() || error.message}`));
      else resolve();
    });
  });
}
