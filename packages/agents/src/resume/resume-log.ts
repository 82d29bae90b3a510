import { type Host, shellQuote } from "@optio/host";

/** The protocol log the agent appends to, workdir-relative. */
export const OPTIO_LOG_FILE = "optio.log";
/** Where earlier sessions' protocol lines are kept on resume, workdir-relative. */
export const OPTIO_LOG_OLD_FILE = "optio.log.old";
/** One line per session start, workdir-relative. */
export const RESUME_LOG_FILE = "resume.log";

/**
 * On resume: appends `optio.log` to `optio.log.old` and empties `optio.log`,
 * so the new session's tailer does not replay the last session's `DONE`.
 * Runs as one shell command on the host so the log is streamed, not read
 * into memory. A missing `optio.log` is fine.
 */
export async function rotateOptioLog(host: Host): Promise<void> {
  const log = shellQuote(host.resolvePath(OPTIO_LOG_FILE));
  const old = shellQuote(host.resolvePath(OPTIO_LOG_OLD_FILE));
  await host.runChecked(`if [ -f ${log} ]; then cat ${log} >> ${old} && : > ${log}; fi`);
}

/** The line `appendResumeLog` writes: `<ISO-8601 UTC>[ REFRESHED:<a>,<b>]`. */
export function resumeLogLine(refreshed: readonly string[], now: Date = new Date()): string {
  for (const file of refreshed) {
    if (/[\n\r,]/.test(file))
      throw new RangeError(`a refreshed file name cannot hold a comma or a line break: ${JSON.stringify(file)}`);
  }
  return refreshed.length > 0 ? `${now.toISOString()} REFRESHED:${refreshed.join(",")}` : now.toISOString();
}

/** Appends one line for this session start to `resume.log`, naming the files a resume refresh rewrote. */
export async function appendResumeLog(host: Host, refreshed: readonly string[] = []): Promise<void> {
  const line = resumeLogLine(refreshed);
  await host.runChecked(`printf '%s\\n' ${shellQuote(line)} >> ${shellQuote(host.resolvePath(RESUME_LOG_FILE))}`);
}
