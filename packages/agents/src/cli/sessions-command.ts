import { endTaskSession, listTaskSessions } from "../session/task-sessions.js";
import { CliUsageError, type CliOptionValue, optionHelp, sessionsOptionSpecs } from "./cli-options.js";
import { type CliIo, EXIT_DONE, EXIT_FAILED } from "./cli-io.js";
import { jsonLine } from "./event-printer.js";
import { parse, PROCESS_ID_PATTERN } from "./parse-command-line.js";
import { sshConfigFromFlags, sshFlagsOf } from "./ssh-flags.js";

/** `ps` lists the task sessions on the host; `kill ID` ends one with every process of it. */
export async function sessionsCommand(
  agent: string,
  bin: string,
  command: "ps" | "kill",
  args: string[],
  io: CliIo,
): Promise<number> {
  const { values, positionals } = parse(args, sessionsOptionSpecs, command === "kill");
  if (values.help) {
    io.stdout.write(
      `Usage: ${bin} ${command === "ps" ? "ps" : "kill PROCESS_ID"} [options]\n\n${optionHelp(sessionsOptionSpecs)}\n`,
    );
    return EXIT_DONE;
  }
  const ssh = sshConfigFromFlags(sshFlagsOf(values as Record<string, CliOptionValue | undefined>), io.cwd);
  const where = { agent, ...(ssh && { ssh }), env: io.env };
  if (command === "kill") {
    const [processId, ...more] = positionals;
    if (processId === undefined || more.length > 0 || !PROCESS_ID_PATTERN.test(processId))
      throw new CliUsageError("kill takes exactly one process id");
    if (!(await endTaskSession({ ...where, processId }))) {
      io.stderr.write(`${bin}: no running session for task ${processId}\n`);
      return EXIT_FAILED;
    }
    io.stdout.write(`Ended task ${processId}.\n`);
    return EXIT_DONE;
  }
  const sessions = await listTaskSessions(where);
  if (values.json)
    for (const s of sessions) io.stdout.write(`${jsonLine({ ...s, startedAt: s.startedAt.toISOString() })}\n`);
  else if (sessions.length === 0) io.stdout.write(`No ${agent} task sessions.\n`);
  else
    for (const s of sessions)
      io.stdout.write(
        `${s.processId}  ${s.alive ? `running, agent pid ${s.agentPid ?? "?"}` : "exited"}  since ${s.startedAt.toISOString()}\n`,
      );
  return EXIT_DONE;
}
