import { shellQuote } from "@optio/host";
import type { BrowserMode } from "../spec/browser-mode.js";

/** The file the agent appends protocol lines to, relative to the workdir. */
export const PROTOCOL_LOG_FILE = "optio.log";
/** The directory deliverables must be written under, relative to the workdir. */
export const DELIVERABLES_DIR = "deliverables";

interface KeywordDoc {
  keyword: string;
  syntax: string;
  meaning: string;
  example: string;
}

const COMMON: readonly KeywordDoc[] = [
  {
    keyword: "STATUS",
    syntax: "STATUS: [<percent>%] <message>",
    meaning:
      "Tells the user how far along you are. The percentage (0 to 100) is optional; leave it out when you cannot estimate it. Send one whenever you start a new step.",
    example: "STATUS: 40% running the test suite",
  },
  {
    keyword: "DELIVERABLE",
    syntax: `DELIVERABLE: ${DELIVERABLES_DIR}/<path>`,
    meaning: `Hands a finished text file (UTF-8) to the user. Write the file completely first, then announce it. The path is relative to the working directory and must point to a file inside \`${DELIVERABLES_DIR}/\`; anything else is refused.`,
    example: `DELIVERABLE: ${DELIVERABLES_DIR}/summary.md`,
  },
  {
    keyword: "ATTENTION",
    syntax: "ATTENTION: <reason>",
    meaning:
      "Asks the user to look at your terminal, for instance when you need a login, a decision or a permission. Keep working if you can.",
    example: "ATTENTION: please sign in to the package registry in the terminal",
  },
  {
    keyword: "DOMAIN_MESSAGE",
    syntax: "DOMAIN_MESSAGE: <name> <json>",
    meaning:
      "Sends structured data to the application that started this task. `<name>` is made of letters, digits, `_`, `.` and `-`; `<json>` is one JSON value written on the same line. Use only the names your instructions ask for.",
    example: 'DOMAIN_MESSAGE: test.results {"passed": 41, "failed": 1}',
  },
  {
    keyword: "DONE",
    syntax: "DONE[: <summary>]",
    meaning: "Says the task is finished. It ends the task: write it last, after every deliverable.",
    example: "DONE: the report is in deliverables/summary.md",
  },
  {
    keyword: "ERROR",
    syntax: "ERROR[: <message>]",
    meaning: "Says the task has failed and cannot be finished. It ends the task: write it last.",
    example: "ERROR: the repository could not be cloned (permission denied)",
  },
];

const BROWSER_DOC: KeywordDoc = {
  keyword: "BROWSER",
  syntax: "BROWSER: <url>",
  meaning:
    "Asks for a web page to be opened for the user (only http and https). Commands that would open a browser (xdg-open, open, sensible-browser, …) already do this for you.",
  example: "BROWSER: https://example.com/device-login",
};

/** The keywords an agent may write in a browser mode, in the order they are documented. */
export function documentedKeywords(mode: BrowserMode): string[] {
  return keywordDocs(mode).map((doc) => doc.keyword);
}

function keywordDocs(mode: BrowserMode): KeywordDoc[] {
  if (mode !== "redirect") return [...COMMON];
  // BROWSER sits before DONE / ERROR so the two ending keywords close the list.
  const endings = COMMON.filter((doc) => doc.keyword === "DONE" || doc.keyword === "ERROR");
  return [...COMMON.filter((doc) => !endings.includes(doc)), BROWSER_DOC, ...endings];
}

function browserNote(mode: BrowserMode): string {
  switch (mode) {
    case "suppress":
      return "Opening a web browser is disabled for this task: commands such as xdg-open do nothing. Do not wait for a browser window; if the user must visit a page, say so with ATTENTION.";
    case "ignore":
      return "";
    case "redirect":
      return "A browser cannot be shown where you run. Use BROWSER (or the usual opener commands) and the page will be opened for the user.";
  }
}

/**
 * Markdown that teaches the agent the optio.log protocol for one browser mode:
 * how to write lines, and each keyword it may use with syntax and an example.
 */
export function protocolDocumentation(mode: BrowserMode): string {
  const parts: string[] = [
    "## Reporting progress to optio",
    "",
    `This task is watched through a file named \`${PROTOCOL_LOG_FILE}\` in your working directory. Tell optio what you are doing by appending lines to it. Rules:`,
    "",
    "- Append only: add one line per event and never edit, truncate or rewrite the file.",
    "- Every line must end with a newline; a line without one is not read.",
    "- A line starts with one of the keywords below, in upper case, followed by a colon and its text (DONE and ERROR may also stand alone).",
    "- Lines that start with anything else are ignored, so keep other output out of this file.",
    "",
    "Append with a shell command such as:",
    "",
    "```sh",
    `echo 'STATUS: 10% reading the instructions' >> ${PROTOCOL_LOG_FILE}`,
    "```",
    "",
    `Files meant for the user go under \`${DELIVERABLES_DIR}/\` in your working directory (create it if needed). Refer to them with paths relative to the working directory, such as \`${DELIVERABLES_DIR}/notes.md\`.`,
    "",
    "### Keywords",
  ];
  for (const doc of keywordDocs(mode)) {
    parts.push(
      "",
      `#### ${doc.keyword}`,
      "",
      `Syntax: \`${doc.syntax}\``,
      "",
      doc.meaning,
      "",
      "```sh",
      `echo ${shellQuote(doc.example)} >> ${PROTOCOL_LOG_FILE}`,
      "```",
    );
  }
  parts.push("", "Writing DONE or ERROR ends the task; nothing written after it is read.");
  const note = browserNote(mode);
  if (note) parts.push("", "### Web browsers", "", note);
  return `${parts.join("\n")}\n`;
}
