import { parseArgs } from "node:util";
import { type CliOptionSpec, CliUsageError } from "./cli-options.js";

/** What a process id given on the command line may hold. */
export const PROCESS_ID_PATTERN = /^[A-Za-z0-9._-]+$/;
/** parseArgs' messages, cut to their first sentence and made to read as one line. */
function usageFromParseError(error: unknown): CliUsageError {
  const message = error instanceof Error ? error.message : String(error);
  const first = (message.split(/\.\s/)[0] ?? message).replace(/\s+/g, " ").trim();
  return new CliUsageError(first.charAt(0).toLowerCase() + first.slice(1), { cause: error });
}

/** Parses `args` against `specs`; a mistake is a CliUsageError. */
export function parse(args: string[], specs: readonly CliOptionSpec[], allowPositionals: boolean) {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  for (const spec of specs) {
    options[spec.name] = {
      type: spec.type,
      ...(spec.short && { short: spec.short }),
      ...(spec.multiple && { multiple: true }),
    };
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals });
  } catch (error) {
    throw usageFromParseError(error);
  }
}
