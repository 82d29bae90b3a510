import type { AgentAdapter } from "../spec/agent-adapter.js";
import { type CliOptionSpec, globalOptionSpecs, optionHelp, seedsListOptionSpecs } from "./cli-options.js";

/** The bin's `--help`: every command, the global and run options, the environment and the exit codes. */
export function helpText(bin: string, adapter: AgentAdapter<never>, runSpecs: readonly CliOptionSpec[]): string {
  return [
    `${bin}: run ${adapter.displayName} as a managed task, locally or over SSH.`,
    "",
    "Usage:",
    `  ${bin} run [INSTRUCTIONS] [options]   start (or --resume) a task`,
    `  ${bin} seeds list [--json]            list saved seeds`,
    `  ${bin} seeds delete ID                delete a seed`,
    `  ${bin} ps [--ssh …] [--json]          list the task sessions on a host`,
    `  ${bin} kill ID [--ssh …]              end a task's session and every process of it`,
    `  ${bin} --help | --version`,
    "",
    "Options:",
    optionHelp(globalOptionSpecs),
    "",
    runHelpBody(runSpecs),
    "",
    "seeds list options:",
    optionHelp(seedsListOptionSpecs.filter((s) => s.name !== "help")),
    "",
    "Environment:",
    "  OPTIO_STATE_DIR   where snapshots and seeds are kept",
    "",
    "Exit status: 0 done, 1 failed, 2 bad command line or configuration, 130 cancelled (Ctrl-C).",
    "",
  ].join("\n");
}

function runHelpBody(runSpecs: readonly CliOptionSpec[]): string {
  return [
    "run options:",
    optionHelp(runSpecs),
    "",
    "Deliverables are saved under ./deliverables/<process id>/. Ctrl-C cancels the task, saves its state",
    "and prints the command that resumes it.",
  ].join("\n");
}

/** `run --help`. */
export function runHelpText(bin: string, adapter: AgentAdapter<never>, runSpecs: readonly CliOptionSpec[]): string {
  return [
    `Usage: ${bin} run [INSTRUCTIONS] [options]`,
    "",
    `Runs ${adapter.displayName} as a task.`,
    "",
    runHelpBody(runSpecs),
    "",
  ].join("\n");
}
