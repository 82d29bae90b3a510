import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CliIo } from "../run-cli.js";

/** A stream that keeps what the CLI writes. */
export class CapturedStream {
  text = "";
  constructor(readonly isTTY = false) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
  get lines(): string[] {
    return this.text.split("\n").filter((line) => line.length > 0);
  }
}

/** A temp working dir and state dir, and an io that writes into memory. */
export interface CliSandbox {
  root: string;
  cwd: string;
  stateDir: string;
  io(stdinText?: string): CliIo & { stdout: CapturedStream; stderr: CapturedStream };
  cleanup(): Promise<void>;
}

export async function createCliSandbox(): Promise<CliSandbox> {
  const root = await mkdtemp(join(tmpdir(), "optio-cli-"));
  const cwd = join(root, "cwd");
  const stateDir = join(root, "state");
  await mkdir(cwd, { recursive: true });
  return {
    root,
    cwd,
    stateDir,
    io(stdinText = "") {
      return {
        stdout: new CapturedStream(),
        stderr: new CapturedStream(),
        stdin: (async function* () {
          if (stdinText) yield Buffer.from(stdinText);
        })(),
        env: { ...process.env, OPTIO_STATE_DIR: stateDir },
        cwd,
      };
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}
