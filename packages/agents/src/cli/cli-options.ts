import { optioErrorClass } from "@optio/host";
import type * as z from "zod/mini";

/** A command line that cannot be run as given; the CLI prints the message on one line and exits 2. */
export class CliUsageError extends optioErrorClass("cli_usage", "CliUsageError") {}

/** A parsed option's value: a string, a flag, or a repeated option's strings. */
export type CliOptionValue = string | boolean | string[];

/** One `--flag` of a command, as `node:util` parseArgs takes it, plus what help prints. */
export interface CliOptionSpec {
  /** The long name, without `--`. */
  readonly name: string;
  readonly short?: string;
  readonly type: "string" | "boolean";
  /** May be given more than once; the values arrive as an array. */
  readonly multiple?: boolean;
  /** Shown after the flag in help, e.g. `FILE`. */
  readonly valueName?: string;
  readonly description: string;
}

/** An adapter-specific flag of `run`: declared by the adapter's bin and folded into the config input. */
export interface CliExtraOption extends CliOptionSpec {
  /** Writes the flag's value into the config input before it is validated. */
  apply(config: Record<string, unknown>, value: CliOptionValue): void;
}

export const runOptionSpecs: readonly CliOptionSpec[] = [
  {
    name: "instructions-file",
    type: "string",
    valueName: "FILE",
    description: "Read the instructions from FILE (`-` reads stdin) instead of the positional argument.",
  },
  {
    name: "ssh",
    type: "string",
    valueName: "USER@HOST[:PORT]",
    description: "Run on this SSH host instead of locally.",
  },
  {
    name: "identity",
    type: "string",
    valueName: "KEY",
    description: "Private key file for --ssh (default: ssh-agent).",
  },
  {
    name: "known-hosts",
    type: "string",
    valueName: "FILE",
    description: "Verify the SSH host key against this known_hosts file.",
  },
  {
    name: "host-fingerprint",
    type: "string",
    valueName: "SHA256:…",
    description: "Verify the SSH host key against this fingerprint (as `ssh-keygen -l` prints it).",
  },
  {
    name: "insecure-accept-any-host-key",
    type: "boolean",
    description: "Accept any SSH host key. Insecure: anyone on the path can impersonate the host.",
  },
  {
    name: "process-id",
    type: "string",
    valueName: "ID",
    description: "Name the task (letters, digits, `.`, `_`, `-`); default `<agent>-<timestamp>`. Resume needs it.",
  },
  { name: "resume", type: "boolean", description: "Continue the task --process-id from its latest snapshot." },
  {
    name: "seed",
    type: "string",
    valueName: "ID",
    description: "Start from a saved seed (a login and settings); see `seeds list`.",
  },
  { name: "save-seed", type: "boolean", description: "Save a seed when a fresh task ends and print its id." },
  {
    name: "install-dir",
    type: "string",
    valueName: "DIR",
    description: "Where the agent's binary lives or is installed.",
  },
  {
    name: "api-base-url",
    type: "string",
    valueName: "URL",
    description: "Point the agent at this model API endpoint (a gateway, a proxy); give its key with --env.",
  },
  {
    name: "env",
    type: "string",
    multiple: true,
    valueName: "NAME=VALUE",
    description:
      "Add a variable to the agent's environment (repeatable); the only way a credential variable reaches it.",
  },
  {
    name: "json",
    type: "boolean",
    description: "Print one JSON object per task event on stdout, then the outcome; nothing else on stdout.",
  },
  { name: "open", type: "boolean", description: "Open the agent's terminal page in the default browser." },
  { name: "help", short: "h", type: "boolean", description: "Show this help." },
];

const SSH_FLAG_NAMES = ["ssh", "identity", "known-hosts", "host-fingerprint", "insecure-accept-any-host-key"];

/** `ps` and `kill`: the host to look on, and the output form. */
export const sessionsOptionSpecs: readonly CliOptionSpec[] = [
  ...runOptionSpecs.filter((s) => SSH_FLAG_NAMES.includes(s.name)),
  { name: "json", type: "boolean", description: "Print one JSON object per session." },
  { name: "help", short: "h", type: "boolean", description: "Show this help." },
];

export const seedsListOptionSpecs: readonly CliOptionSpec[] = [
  { name: "json", type: "boolean", description: "Print one JSON object per seed." },
  { name: "help", short: "h", type: "boolean", description: "Show this help." },
];

export const seedsDeleteOptionSpecs: readonly CliOptionSpec[] = [
  { name: "help", short: "h", type: "boolean", description: "Show this help." },
];

export const globalOptionSpecs: readonly CliOptionSpec[] = [
  { name: "help", short: "h", type: "boolean", description: "Show this help." },
  { name: "version", type: "boolean", description: "Print the version." },
];

type Def = {
  type?: string;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  shape?: Record<string, z.core.$ZodType>;
  entries?: Record<string, string | number>;
};

function defOf(schema: z.core.$ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** The object shape behind a config schema (through refinements and pipes), or null. */
function objectShape(schema: z.core.$ZodType): Record<string, z.core.$ZodType> | null {
  let current: z.core.$ZodType | undefined = schema;
  for (let depth = 0; current && depth < 8; depth += 1) {
    const def = defOf(current);
    if (def.type === "object" && def.shape) return def.shape;
    current = def.type === "pipe" ? def.in : def.innerType;
  }
  return null;
}

/** The literal values a field accepts when it is an enum (through optional/default wrappers), or null. */
function enumValues(schema: z.core.$ZodType): string[] | null {
  let current: z.core.$ZodType | undefined = schema;
  for (let depth = 0; current && depth < 8; depth += 1) {
    const def = defOf(current);
    if (def.type === "enum" && def.entries) return Object.values(def.entries).map(String);
    current = def.innerType;
  }
  return null;
}

/** `--permission-mode`, offered only when the adapter's config has a `permissionMode` field. */
export function permissionModeOption(configSchema: z.core.$ZodType): CliExtraOption | null {
  const field = objectShape(configSchema)?.permissionMode;
  if (!field) return null;
  const values = enumValues(field);
  return {
    name: "permission-mode",
    type: "string",
    valueName: "MODE",
    description: values ? `The agent's permission mode: ${values.join(", ")}.` : "The agent's permission mode.",
    apply(config, value) {
      config.permissionMode = value;
    },
  };
}

function flagText(spec: CliOptionSpec): string {
  const long = `--${spec.name}${spec.type === "string" ? ` ${spec.valueName ?? "VALUE"}` : ""}`;
  return spec.short ? `-${spec.short}, ${long}` : `    ${long}`;
}

/** Help lines for a set of options, aligned. */
export function optionHelp(specs: readonly CliOptionSpec[]): string {
  const flags = specs.map(flagText);
  const width = Math.min(40, Math.max(...flags.map((f) => f.length)) + 2);
  return specs
    .map((spec, i) => {
      const flag = flags[i] ?? "";
      return flag.length + 2 > width
        ? `  ${flag}\n  ${" ".repeat(width)}${spec.description}`
        : `  ${flag.padEnd(width)}${spec.description}`;
    })
    .join("\n");
}
