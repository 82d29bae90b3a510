import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const packagesDir = new URL("../../../../", import.meta.url);
const aliases = {
  "@optio/host": "host/src/index.ts",
  "@optio/host/testing": "host/src/testing.ts",
  "@optio/agents": "agents/src/index.ts",
  "@optio/agents/testing": "agents/src/testing.ts",
  "@optio/claudecode": "claudecode/src/index.ts",
  "@optio/opencode": "opencode/src/index.ts",
};

export async function resolve(specifier, context, next) {
  const alias = aliases[specifier];
  if (alias) return { url: new URL(alias, packagesDir).href, shortCircuit: true };
  const parent = context.parentURL;
  if (parent?.endsWith(".ts") && /^\.\.?\//.test(specifier) && specifier.endsWith(".js")) {
    const tsUrl = new URL(`${specifier.slice(0, -3)}.ts`, parent);
    if (existsSync(fileURLToPath(tsUrl))) return { url: tsUrl.href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.endsWith(".ts")) return next(url, context);
  const fileName = fileURLToPath(url);
  const { outputText } = ts.transpileModule(await readFile(fileName, "utf8"), {
    fileName,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
      sourceMap: false,
      inlineSourceMap: true,
    },
  });
  return { format: "module", source: outputText, shortCircuit: true };
}
