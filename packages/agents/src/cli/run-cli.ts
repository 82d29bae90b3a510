import { readFile } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { shellCommand } from "@optio/host";
import * as z from "zod/mini";
import type { AgentAdapter } from "../spec/agent-adapter.js";
import type { AgentTaskConfig } from "../spec/config.js";
import { createAgentTask } from "../task/agent-task.js";
import { runTask } from "../task/run-task.js";
import type { TaskOutcome } from "../spec/task-context.js";
import {
  type CliExtraOption,
  type CliOptionSpec,
  type CliOptionValue,
  CliUsageError,
  globalOptionSpecs,
  permissionModeOption,
  runOptionSpecs,
} from "./cli-options.js";
import { helpText, runHelpText } from "./help-text.js";
import { EventPrinter, outcomeJson } from "./event-printer.js";
import { usageSummary } from "./usage-summary.js";
import { openUrl } from "./open-url.js";
import { saveDeliverable } from "./save-deliverable.js";
import { sshConfigFromFlags, sshFlagsArgv, sshFlagsOf } from "./ssh-flags.js";
import "../spec/zod-locale.js";
import { type CliIo, createStore, defaultIo, EXIT_CANCELLED, EXIT_DONE, EXIT_FAILED, EXIT_USAGE } from "./cli-io.js";
import { parse, PROCESS_ID_PATTERN } from "./parse-command-line.js";
import { seedsCommand } from "./seeds-command.js";
import { sessionsCommand } from "./sessions-command.js";

export { type CliIo, EXIT_CANCELLED, EXIT_DONE, EXIT_FAILED, EXIT_USAGE } from "./cli-io.js";

/** What an adapter's bin passes `runCli` besides its argv: its name, version and extra options. */
export interface RunCliOptions {
  /** The command's name in help and in the printed resume command; `optio-<adapter id>` by default. */
  bin?: string;
  /** What `--version` prints. */
  version?: string;
  /** Adapter-specific flags of `run` (`--permission-mode` is added on its own when the config has that field). */
  extraOptions?: readonly CliExtraOption[];
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `<agent>-YYYYMMDD-HHMMSS` in UTC. */
export function defaultProcessId(agentId: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${agentId}-${stamp}`;
}

export function parseEnvFlags(values: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const item of values) {
    const eq = item.indexOf("=");
    const name = eq < 0 ? item : item.slice(0, eq);
    if (eq < 0) throw new CliUsageError(`--env must look like NAME=VALUE, got ${JSON.stringify(item)}`);
    if (!ENV_NAME.test(name))
      throw new CliUsageError(`--env name ${JSON.stringify(name)} is not a valid variable name`);
    env[name] = item.slice(eq + 1);
  }
  return env;
}

async function readStdin(stdin: CliIo["stdin"]): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

function issueText(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const issue = issues[0];
  if (!issue) return "invalid configuration";
  const path = issue.path.map(String).join(".");
  return `invalid configuration${path ? ` at ${path}` : ""}: ${issue.message}`;
}

function runSpecsFor(
  adapter: AgentAdapter<never>,
  options: RunCliOptions,
): { specs: CliOptionSpec[]; extras: CliExtraOption[] } {
  const extras: CliExtraOption[] = [];
  const permissionMode = permissionModeOption(adapter.configSchema);
  if (permissionMode && !options.extraOptions?.some((o) => o.name === permissionMode.name)) extras.push(permissionMode);
  extras.push(...(options.extraOptions ?? []));
  const builtin = runOptionSpecs.filter((s) => s.name !== "help");
  for (const extra of extras) {
    if (runOptionSpecs.some((s) => s.name === extra.name))
      throw new TypeError(`extra option --${extra.name} clashes with a built-in option`);
  }
  const help = runOptionSpecs.filter((s) => s.name === "help");
  return { specs: [...builtin, ...extras, ...help], extras };
}

/**
 * The command line every adapter's bin shares: `run`, `seeds list`,
 * `seeds delete`. Returns the exit code; the bin exits with it.
 */
export async function runCli<C extends AgentTaskConfig>(
  adapter: AgentAdapter<C>,
  argv: readonly string[] = process.argv.slice(2),
  io: Partial<CliIo> = {},
  options: RunCliOptions = {},
): Promise<number> {
  const fullIo: CliIo = { ...defaultIo(), ...io };
  const generic = adapter as unknown as AgentAdapter<never>;
  const bin = options.bin ?? `optio-${adapter.id}`;
  try {
    const { specs, extras } = runSpecsFor(generic, options);
    const [command, ...rest] = argv;
    if (command === "run") return await runCommand(generic, bin, rest, fullIo, specs, extras);
    if (command === "seeds") return await seedsCommand(adapter.id, bin, rest, fullIo);
    if (command === "ps" || command === "kill") return await sessionsCommand(adapter.id, bin, command, rest, fullIo);
    const { values, positionals } = parse([...argv], globalOptionSpecs, true);
    if (values.help) {
      fullIo.stdout.write(helpText(bin, generic, specs));
      return EXIT_DONE;
    }
    if (values.version) {
      fullIo.stdout.write(`${options.version ?? "unknown"}\n`);
      return EXIT_DONE;
    }
    const unknown = positionals[0];
    throw new CliUsageError(
      unknown === undefined
        ? "missing command: run or seeds"
        : `unknown command ${JSON.stringify(unknown)}: use run or seeds`,
    );
  } catch (error) {
    if (CliUsageError.isInstance(error)) {
      fullIo.stderr.write(`${bin}: ${error.message.replace(/\s*\n\s*/g, " ")} (see ${bin} --help)\n`);
      return EXIT_USAGE;
    }
    fullIo.stderr.write(`${bin}: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_FAILED;
  }
}

async function runCommand(
  adapter: AgentAdapter<never>,
  bin: string,
  args: string[],
  io: CliIo,
  specs: readonly CliOptionSpec[],
  extras: readonly CliExtraOption[],
): Promise<number> {
  const { values: raw, positionals } = parse(args, specs, true);
  const values = raw as Record<string, CliOptionValue | undefined>;
  if (values.help) {
    io.stdout.write(runHelpText(bin, adapter, specs));
    return EXIT_DONE;
  }
  const str = (name: string) => values[name] as string | undefined;
  const flag = (name: string) => values[name] === true;

  if (positionals.length > 1)
    throw new CliUsageError(`expected one instructions argument (quote it), got ${positionals.length}`);
  const instructionsFile = str("instructions-file");
  if (positionals.length === 1 && instructionsFile !== undefined) {
    throw new CliUsageError("give the instructions either as an argument or with --instructions-file, not both");
  }
  const explicitId = str("process-id");
  if (explicitId !== undefined && !PROCESS_ID_PATTERN.test(explicitId)) {
    throw new CliUsageError(
      `--process-id may hold only letters, digits, ".", "_" and "-", got ${JSON.stringify(explicitId)}`,
    );
  }
  const resume = flag("resume");
  if (resume && explicitId === undefined)
    throw new CliUsageError("--resume needs --process-id: the id of the task to continue");
  const processId = explicitId ?? defaultProcessId(adapter.id);
  const env = parseEnvFlags((values.env as string[] | undefined) ?? []);
  const sshFlags = sshFlagsOf(values);
  const ssh = sshConfigFromFlags(sshFlags, io.cwd);
  const rawInstallDir = str("install-dir");
  const installDir =
    rawInstallDir !== undefined && !ssh && !isAbsolute(rawInstallDir) && !rawInstallDir.startsWith("~")
      ? resolve(io.cwd, rawInstallDir)
      : rawInstallDir;

  let instructions = positionals[0] ?? "";
  if (instructionsFile !== undefined) {
    try {
      instructions =
        instructionsFile === "-"
          ? await readStdin(io.stdin)
          : await readFile(resolve(io.cwd, instructionsFile), "utf8");
    } catch (error) {
      throw new CliUsageError(`cannot read --instructions-file ${instructionsFile}: ${(error as Error).message}`);
    }
  }

  const json = flag("json");
  const printer = new EventPrinter(io.stdout, io.stderr, json);
  const deliverableDir = join(io.cwd, "deliverables", processId);
  const deliverables: string[] = [];
  let seedId: string | undefined;

  const config: Record<string, unknown> = {
    consumerInstructions: instructions,
    env,
    ...(ssh && { ssh }),
    ...(installDir !== undefined && { installDir }),
    ...(str("api-base-url") !== undefined && { apiBaseUrl: str("api-base-url") }),
    ...(str("seed") !== undefined && { seedId: str("seed") }),
    onDeliverable: async (_ctx: unknown, path: string, text: string) => {
      const file = await saveDeliverable(deliverableDir, path, text);
      const shown = relative(io.cwd, file);
      deliverables.push(shown);
      printer.say(`Deliverable saved: ${shown}`);
    },
    ...(flag("save-seed") && {
      onSeedSaved: (id: string) => {
        seedId = id;
        printer.say(`Seed saved: ${id} (start a task from it with --seed ${id})`);
      },
    }),
  };
  const extraArgv: string[] = [];
  for (const extra of extras) {
    const value = values[extra.name];
    if (value === undefined) continue;
    extra.apply(config, value);
    if (Array.isArray(value)) for (const v of value) extraArgv.push(`--${extra.name}`, v);
    else extraArgv.push(...(value === true ? [`--${extra.name}`] : value === false ? [] : [`--${extra.name}`, value]));
  }
  const checked = z.safeParse(adapter.configSchema, config);
  if (!checked.success) throw new CliUsageError(issueText(checked.error.issues));

  const firstLine = instructions.trim().split("\n")[0] ?? "";
  const task = createAgentTask(adapter, {
    processId,
    name: `${adapter.displayName} ${processId}`,
    description: firstLine ? firstLine.slice(0, 120) : `an interactive ${adapter.displayName} session`,
    config: config as never,
  });
  const where = ssh ? `on ${ssh.username}@${ssh.host}${ssh.port ? `:${ssh.port}` : ""}` : "on this machine";
  printer.say(
    `${resume ? "Resuming" : "Starting"} ${adapter.displayName} task ${processId} ${where} (Ctrl-C cancels and saves it)`,
  );

  const run = runTask(task, { store: createStore(io.env), resume, handleSigint: true });
  let savedState = false;
  for await (const event of run.events) {
    printer.event(event);
    if (event.type === "saved-state") savedState = true;
    if (event.type === "widget" && event.widget && flag("open")) {
      const failure = await openUrl(event.widget.url);
      if (failure) printer.warn(`warning: ${failure}`);
    }
  }
  const outcome: TaskOutcome = await run.outcome;

  const envNames = Object.keys(env);
  const resumeCommand = shellCommand([
    bin,
    "run",
    "--process-id",
    processId,
    "--resume",
    ...sshFlagsArgv(sshFlags, io.cwd),
    ...(installDir !== undefined ? ["--install-dir", installDir] : []),
    ...extraArgv,
  ]);
  const offerResume = outcome.status === "cancelled" || (outcome.status === "failed" && savedState);

  if (json) {
    printer.jsonObject({
      type: "outcome",
      outcome: outcomeJson(outcome),
      processId,
      deliverables,
      ...(seedId !== undefined && { seedId }),
      ...(offerResume && { resumeCommand }),
    });
  }
  if (outcome.status === "done") {
    printer.say(`Done${outcome.summary ? `: ${outcome.summary}` : "."}`);
  } else if (outcome.status === "failed") {
    printer.warn(`${bin}: task failed: ${outcome.message}`);
  } else {
    printer.say(`Cancelled task ${processId}.`);
  }
  if (outcome.usage) printer.say(usageSummary(outcome.usage));
  if (offerResume) {
    printer.say(`To resume it, run:\n  ${resumeCommand}`);
    if (envNames.length > 0) printer.say(`  (add your --env flags again: ${envNames.join(", ")})`);
  }
  return outcome.status === "done" ? EXIT_DONE : outcome.status === "failed" ? EXIT_FAILED : EXIT_CANCELLED;
}
