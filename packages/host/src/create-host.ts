import type { Host } from "./host.js";
import { LocalHost } from "./local-host.js";
import { RemoteHost } from "./remote-host.js";
import type { SSHConfigInput } from "./ssh-config.js";

export interface CreateHostOptions {
  /** The consumer (agent) name; it names the task root. */
  consumer: string;
  processId: string;
  /** Set to run on a remote host over SSH; unset runs on this machine. */
  ssh?: SSHConfigInput;
  /** Environment used to find the task root; defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** A RemoteHost when `ssh` is set, else a LocalHost. */
export function createHost(options: CreateHostOptions): Host {
  const { consumer, processId, ssh, env } = options;
  if (ssh) return new RemoteHost({ consumer, processId, ssh, env });
  return new LocalHost({ consumer, processId, env });
}
