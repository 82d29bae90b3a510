import { Transform, type TransformCallback } from "node:stream";
import { envAssignments, shellQuote } from "./shell.js";

const PID_MARK = "OPTIO_PID=";
const NOCWD_MARK = "OPTIO_NOCWD";
const MAX_PREAMBLE = 64 * 1024;

export type Marker = { pid: number } | { noCwd: true };

/**
 * Takes the wrapper's marker line (`OPTIO_PID=<pid>` or `OPTIO_NOCWD`) off the
 * front of a stream and passes the rest through. Lines before it (noise a
 * login shell may print) are dropped.
 */
export class MarkerStripper extends Transform {
  private head: Buffer = Buffer.alloc(0);
  private found = false;

  constructor(private readonly onMarker: (marker: Marker | Error) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.found) return callback(null, chunk);
    this.head = this.head.length === 0 ? chunk : Buffer.concat([this.head, chunk]);
    let start = 0;
    let nl = this.head.indexOf(10, start);
    while (nl !== -1) {
      const line = this.head.toString("utf8", start, nl).replace(/\r$/, "");
      start = nl + 1;
      if (line.startsWith(PID_MARK) || line === NOCWD_MARK) {
        this.found = true;
        const rest = this.head.subarray(start);
        this.head = Buffer.alloc(0);
        this.onMarker(line === NOCWD_MARK ? { noCwd: true } : { pid: Number(line.slice(PID_MARK.length)) });
        return callback(null, rest.length > 0 ? rest : undefined);
      }
      nl = this.head.indexOf(10, start);
    }
    this.head = this.head.subarray(start);
    if (this.head.length > MAX_PREAMBLE) {
      this.found = true;
      const rest = this.head;
      this.head = Buffer.alloc(0);
      this.onMarker(new Error("the remote command wrapper printed no pid marker"));
      return callback(null, rest);
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (!this.found) {
      this.found = true;
      this.onMarker(
        new Error(
          `the remote command ended before its wrapper started${this.head.length ? `: ${this.head.toString("utf8").trim()}` : ""}`,
        ),
      );
    }
    callback();
  }
}

export interface WrapOptions {
  cwd?: string;
  env?: Record<string, string>;
  mergeStderr?: boolean;
}

/**
 * The line sent to the login shell: a POSIX sh that reports its pid (it is
 * the session and group leader sshd made for the channel), then execs the
 * command so the pid stays the command's. Env values are exported in the
 * script, so AcceptEnv on the server does not matter.
 */
export function wrapCommand(command: string, options: WrapOptions): string {
  const lines: string[] = [];
  if (options.cwd !== undefined)
    lines.push(`cd ${shellQuote(options.cwd)} 2>/dev/null || { echo ${NOCWD_MARK} >&2; exit 127; }`);
  lines.push(`echo "${PID_MARK}$$" >&2`);
  for (const assignment of envAssignments(options.env ?? {})) lines.push(`export ${assignment}`);
  if (options.mergeStderr) lines.push("exec 2>&1");
  lines.push(`exec /bin/sh -c ${shellQuote(command)}`);
  return `exec /bin/sh -c ${shellQuote(lines.join("\n"))}`;
}
