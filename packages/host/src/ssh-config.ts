import { z } from "zod";
import { OptioConfigError } from "./errors.js";

/** How to reach a remote host. The host key is verified unless told otherwise. */
export const sshConfigSchema = z
  .object({
    /** Host name or address. */
    host: z.string().min(1),
    /** SSH port. */
    port: z.number().int().min(1).max(65535).default(22),
    /** Login user. */
    username: z.string().min(1),
    /** Path (on the worker) of a private key file. */
    identityFile: z.string().min(1).optional(),
    /** A private key given inline (PEM / OpenSSH format). */
    privateKey: z.string().min(1).optional(),
    /** Passphrase of the private key. */
    passphrase: z.string().optional(),
    /** ssh-agent socket; defaults to $SSH_AUTH_SOCK when no key is given. */
    agent: z.string().min(1).optional(),
    /** known_hosts file to verify the host key against. */
    knownHostsFile: z.string().min(1).optional(),
    /** Pinned host key fingerprint, `SHA256:<base64>` as `ssh-keygen -l` prints it. */
    hostFingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, "must look like SHA256:<43 base64 characters>").optional(),
    /** Accept any host key. Insecure: anyone on the path can impersonate the host. */
    insecureAcceptAnyHostKey: z.boolean().default(false),
    /** Interval between keepalive probes. */
    keepaliveIntervalMs: z.number().int().positive().default(10_000),
    /** Time allowed for connecting and authenticating. */
    readyTimeoutMs: z.number().int().positive().default(20_000),
  })
  .strict();

export type SSHConfig = z.infer<typeof sshConfigSchema>;
export type SSHConfigInput = z.input<typeof sshConfigSchema>;

/** The config with its defaults filled in, or OptioConfigError naming the first bad field (as `ssh.<field>`). */
export function parseSshConfig(input: unknown): SSHConfig {
  const parsed = sshConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue && issue.path.length > 0 ? `ssh.${issue.path.join(".")}` : "ssh";
  throw new OptioConfigError(`${field}: ${issue?.message ?? "invalid"}`, { cause: parsed.error });
}
