import { isAbsolute, resolve } from "node:path";
import type { SSHConfigInput } from "@optio/host";
import { type CliOptionValue, CliUsageError } from "./cli-options.js";

/** The SSH-related flags of `run`, as typed. */
export interface SshFlags {
  ssh?: string;
  identity?: string;
  knownHosts?: string;
  hostFingerprint?: string;
  insecureAcceptAnyHostKey?: boolean;
}

const TARGET = /^([^@\s:]+)@(\[[0-9A-Fa-f:.]+\]|[^@\s:[\]]+)(?::(\d+))?$/;

/** `user@host[:port]` (an IPv6 address in brackets) → its parts. */
export function parseSshTarget(text: string): { username: string; host: string; port?: number } {
  const match = TARGET.exec(text);
  if (!match) throw new CliUsageError(`--ssh must look like user@host or user@host:port, got ${JSON.stringify(text)}`);
  const [, username = "", rawHost = "", rawPort] = match;
  const host = rawHost.startsWith("[") ? rawHost.slice(1, -1) : rawHost;
  if (rawPort === undefined) return { username, host };
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new CliUsageError(`--ssh port must be 1–65535, got ${rawPort}`);
  return { username, host, port };
}

const absolute = (cwd: string, path: string) => (isAbsolute(path) ? path : resolve(cwd, path));

/** The `ssh` config block the flags describe, or undefined for a local run; flags that conflict are a usage error. */
export function sshConfigFromFlags(flags: SshFlags, cwd: string): SSHConfigInput | undefined {
  if (!flags.ssh) {
    const stray = [
      flags.identity !== undefined && "--identity",
      flags.knownHosts !== undefined && "--known-hosts",
      flags.hostFingerprint !== undefined && "--host-fingerprint",
      flags.insecureAcceptAnyHostKey && "--insecure-accept-any-host-key",
    ].find(Boolean);
    if (stray) throw new CliUsageError(`${stray} only makes sense with --ssh`);
    return undefined;
  }
  const verifiers = [
    flags.knownHosts !== undefined && "--known-hosts",
    flags.hostFingerprint !== undefined && "--host-fingerprint",
    flags.insecureAcceptAnyHostKey && "--insecure-accept-any-host-key",
  ].filter((v): v is string => Boolean(v));
  if (verifiers.length > 1)
    throw new CliUsageError(`${verifiers.join(" and ")} cannot be used together: choose one way to check the host key`);
  const target = parseSshTarget(flags.ssh);
  return {
    ...target,
    ...(flags.identity !== undefined && { identityFile: absolute(cwd, flags.identity) }),
    ...(flags.knownHosts !== undefined && { knownHostsFile: absolute(cwd, flags.knownHosts) }),
    ...(flags.hostFingerprint !== undefined && { hostFingerprint: flags.hostFingerprint }),
    ...(flags.insecureAcceptAnyHostKey && { insecureAcceptAnyHostKey: true }),
  };
}

/** The flags that reach the same host again, for the printed resume command (paths made absolute). */
export function sshFlagsArgv(flags: SshFlags, cwd: string): string[] {
  if (!flags.ssh) return [];
  const argv = ["--ssh", flags.ssh];
  if (flags.identity !== undefined) argv.push("--identity", absolute(cwd, flags.identity));
  if (flags.knownHosts !== undefined) argv.push("--known-hosts", absolute(cwd, flags.knownHosts));
  if (flags.hostFingerprint !== undefined) argv.push("--host-fingerprint", flags.hostFingerprint);
  if (flags.insecureAcceptAnyHostKey) argv.push("--insecure-accept-any-host-key");
  return argv;
}

/** The SSH flags among a command's parsed option values. */
export function sshFlagsOf(values: Record<string, CliOptionValue | undefined>): SshFlags {
  const str = (name: string) => values[name] as string | undefined;
  return {
    ...(str("ssh") !== undefined && { ssh: str("ssh") }),
    ...(str("identity") !== undefined && { identity: str("identity") }),
    ...(str("known-hosts") !== undefined && { knownHosts: str("known-hosts") }),
    ...(str("host-fingerprint") !== undefined && { hostFingerprint: str("host-fingerprint") }),
    ...(values["insecure-accept-any-host-key"] === true && { insecureAcceptAnyHostKey: true }),
  };
}
