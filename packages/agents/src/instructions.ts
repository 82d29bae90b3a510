import type { BrowserMode } from "./spec/browser-mode.js";
import { protocolDocumentation } from "./protocol/documentation.js";
import { RESUME_LOG_FILE } from "./resume/resume-log.js";

/** What ends a resume.log line when files were rewritten for that session (see resumeLogLine). */
const REFRESHED_MARKER = "REFRESHED:";

export interface ResumeInstructions {
  /** The workdir snapshot's exclude patterns; the agent is told these do not survive. */
  excludes: readonly string[];
  /** An adapter's extra words on what of the agent's own state is kept. */
  privateNote?: string;
}

export interface ComposeInstructionsOptions {
  mode: BrowserMode;
  consumerInstructions: string;
  /** Null or missing when the task cannot be resumed. */
  resume?: ResumeInstructions | null;
}

export const TASK_HEADING = "## Your task";

/** Markdown inline code that shows `text` verbatim, even when it holds backticks. */
function codeSpan(text: string): string {
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longestRun + 1);
  return longestRun === 0 ? `${fence}${text}${fence}` : `${fence} ${text} ${fence}`;
}

function resumeSection(resume: ResumeInstructions): string {
  const excluded =
    resume.excludes.length === 0
      ? ["- (no patterns: everything in the working directory is kept)"]
      : resume.excludes.map((pattern) => `- ${codeSpan(pattern)}`);
  const lines = [
    "## If this task is stopped and resumed",
    "",
    "This task may be stopped at any time and continued later, possibly on another machine, in a new session that starts from what was saved.",
    "",
    "What is kept:",
    "",
    "- every file in the working directory, except paths matching the patterns listed below;",
    "- your own private state, such as your login and this conversation.",
    "",
    "What is lost:",
    "",
    "- anything outside the working directory;",
    "- running processes (servers, watchers, background jobs): start them again when you need them;",
    "- paths matching these patterns, anywhere in the working directory:",
    "",
    ...excluded,
  ];
  if (resume.privateNote?.trim()) lines.push("", resume.privateNote.trim());
  lines.push(
    "",
    `At the start of every new message, read \`${RESUME_LOG_FILE}\` in the working directory. Each line is the start time of one session; a new line since you last looked means you were resumed. A line that ends in \`${REFRESHED_MARKER}<files>\` (a comma-separated list of paths relative to the working directory) means those files were rewritten for that session: read them again before going on, because they may say something new.`,
    "",
    "Keep your progress in files in the working directory so that a resumed session can pick up where this one stopped.",
  );
  return lines.join("\n");
}

/**
 * The text of the agent's instructions file: the optio.log protocol for the
 * browser mode, then (for a resumable task) what survives a resume, then the
 * consumer's own instructions under their heading.
 */
export function composeInstructions(options: ComposeInstructionsOptions): string {
  const sections = [protocolDocumentation(options.mode).trimEnd()];
  if (options.resume) sections.push(resumeSection(options.resume));
  const task = options.consumerInstructions.trim();
  sections.push(`${TASK_HEADING}\n\n${task === "" ? "(No instructions were given.)" : task}`);
  return `${sections.join("\n\n")}\n`;
}
