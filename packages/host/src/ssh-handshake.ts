import { readFile } from "node:fs/promises";
import type { ConnectConfig } from "ssh2";
import {
  AuthenticationError,
  ConnectionRefusedError,
  HostKeyMismatchError,
  OptioConfigError,
  OptioTimeoutError,
} from "./errors.js";
import { keyFingerprint, knownHostsName, parseKnownHosts, verifyAgainstKnownHosts } from "./known-hosts.js";
import type { SSHConfig } from "./ssh-config.js";

type Ssh2 = typeof import("ssh2");

/** The text of a file a config field names; one that cannot be read is an OptioConfigError naming the field. */
async function readNamedFile(field: string, file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new OptioConfigError(`${field} cannot be read: ${file} (${(error as NodeJS.ErrnoException).code ?? error})`, {
      cause: error,
    });
  }
}

export interface HostCheck {
  verify(key: Buffer): boolean;
  /** Set when `verify` said no: why, for the error. */
  rejection: string | null;
}

/** `user@host:port`, as errors name a connection. */
export function sshLabel(config: SSHConfig): string {
  return `${config.username}@${config.host}:${config.port}`;
}

/** The credentials ssh2 is given: a parsed private key and/or an agent socket; OptioConfigError names the field that is wrong. */
export async function sshCredentials(ssh2: Ssh2, config: SSHConfig): Promise<Partial<ConnectConfig>> {
  const { identityFile, passphrase, agent } = config;
  let privateKey = config.privateKey;
  let keyField = "ssh.privateKey";
  if (privateKey === undefined && identityFile !== undefined) {
    keyField = "ssh.identityFile";
    privateKey = await readNamedFile("ssh.identityFile", identityFile);
  }
  const out: Partial<ConnectConfig> = {};
  if (privateKey !== undefined) {
    const parsed = ssh2.utils.parseKey(privateKey, passphrase);
    if (parsed instanceof Error) {
      throw new OptioConfigError(
        `${keyField} is not a usable private key${passphrase === undefined ? "" : " (or ssh.passphrase is wrong)"}: ${parsed.message}`,
        { cause: parsed },
      );
    }
    out.privateKey = privateKey;
    if (passphrase !== undefined) out.passphrase = passphrase;
  }
  const agentSocket = agent ?? (privateKey === undefined ? process.env.SSH_AUTH_SOCK : undefined);
  if (agentSocket) out.agent = agentSocket;
  if (out.privateKey === undefined && out.agent === undefined) {
    throw new OptioConfigError(
      "ssh: no credentials: set ssh.identityFile, ssh.privateKey or ssh.agent (or SSH_AUTH_SOCK)",
    );
  }
  return out;
}

/** How the presented host key is checked: a fingerprint, a known_hosts file, or (when asked for) not at all. */
export async function hostKeyCheck(config: SSHConfig): Promise<HostCheck> {
  const { knownHostsFile, hostFingerprint, insecureAcceptAnyHostKey, host, port } = config;
  const check: HostCheck = { rejection: null, verify: () => true };
  if (hostFingerprint !== undefined) {
    const expected = hostFingerprint.replace(/=+$/, "");
    check.verify = (key) => {
      const actual = keyFingerprint(key);
      if (actual === expected) return true;
      check.rejection = `expected ${expected}, got ${actual}`;
      return false;
    };
    return check;
  }
  if (knownHostsFile !== undefined) {
    const text = await readNamedFile("ssh.knownHostsFile", knownHostsFile);
    const entries = parseKnownHosts(text);
    check.verify = (key) => {
      const verdict = verifyAgainstKnownHosts(entries, host, port, key);
      if (verdict.ok) return true;
      const actual = keyFingerprint(key);
      check.rejection =
        verdict.expected.length > 0
          ? `expected ${verdict.expected.join(" or ")} (from ${knownHostsFile}), got ${actual}`
          : `${knownHostsFile} has no usable key for ${knownHostsName(host, port)}; got ${actual}`;
      return false;
    };
    return check;
  }
  if (insecureAcceptAnyHostKey) return check;
  throw new OptioConfigError(
    "ssh: the host key cannot be verified: set ssh.knownHostsFile or ssh.hostFingerprint (or ssh.insecureAcceptAnyHostKey: true to skip the check)",
  );
}

/** The typed error for a failed connect. */
export function connectError(
  error: Error & { level?: string; code?: string },
  check: HostCheck,
  config: SSHConfig,
): Error {
  const label = sshLabel(config);
  const { host, port } = config;
  if (check.rejection !== null) {
    return new HostKeyMismatchError(`ssh: host key of ${host}:${port} does not match: ${check.rejection}`, {
      cause: error,
    });
  }
  if (error.code === "ECONNREFUSED")
    return new ConnectionRefusedError(`ssh: connection to ${host}:${port} refused`, { cause: error });
  if (error.level === "client-authentication" || error.level === "agent") {
    return new AuthenticationError(`ssh: ${label} rejected every credential offered: ${error.message}`, {
      cause: error,
    });
  }
  if (error.level === "client-timeout") {
    return new OptioTimeoutError(`ssh: ${label} did not complete the handshake within ${config.readyTimeoutMs} ms`, {
      cause: error,
    });
  }
  return new ConnectionRefusedError(`ssh: cannot connect to ${label}: ${error.message}`, { cause: error });
}
