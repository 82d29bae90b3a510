import type { StateStore } from "../spec/state-store.js";
import { FileStateStore } from "../store/file-state-store.js";
import type { OutputStream } from "./event-printer.js";

/** Where the CLI reads and writes; the process's own streams by default, replaceable in tests and embedders. */
export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  stdin: AsyncIterable<Uint8Array | string>;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

export const EXIT_DONE = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_CANCELLED = 130;

/** The process's own streams, environment and directory. */
export function defaultIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

/** The store the CLI's commands share: `$OPTIO_STATE_DIR`, or the file store's default place. */
export function createStore(env: CliIo["env"]): StateStore {
  const dir = env.OPTIO_STATE_DIR;
  return dir ? new FileStateStore({ dir }) : new FileStateStore();
}
