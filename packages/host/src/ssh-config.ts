import * as z from "zod/mini";
import "./zod-locale.js";
import { OptioConfigError } from "./errors.js";

/** How to reach a remote host. The host key is verified unless told otherwise. */
export const sshConfigSchema = z.strictObject({
  /** Host name or address. */
  host: z.string().check(z.minLength(1)),
  /** SSH port. */
  port: z._default(z.int().check(z.gte(1), z.lte(65535)), 22),
  /** Login user. */
  username: z.string().check(z.minLength(1)),
  /** Path (on the worker) of a private key file. */
  identityFile: z.optional(z.string().check(z.minLength(1))),
  /** A private key given inline (PEM / OpenSSH format). */
  privateKey: z.optional(z.string().check(z.minLength(1))),
  /** Passphrase of the private key. */
  passphrase: z.optional(z.string()),
  /** ssh-agent socket; defaults to $SSH_AUTH_SOCK when no key is given. */
  agent: z.optional(z.string().check(z.minLength(1))),
  /** known_hosts file to verify the host key against. */
  knownHostsFile: z.optional(z.string().check(z.minLength(1))),
  /** Pinned host key fingerprint, `SHA256:<base64>` as `ssh-keygen -l` prints it. */
  hostFingerprint: z.optional(
    z.string().check(z.regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, "must look like SHA256:<43 base64 characters>")),
  ),
  /** Accept any host key. Insecure: anyone on the path can impersonate the host. */
  insecureAcceptAnyHostKey: z._default(z.boolean(), false),
  /** Interval between keepalive probes. */
  keepaliveIntervalMs: z._default(z.int().check(z.positive()), 10_000),
  /** Time allowed for connecting and authenticating. */
  readyTimeoutMs: z._default(z.int().check(z.positive()), 20_000),
});

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
