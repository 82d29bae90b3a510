import { describe, expect, it } from "vitest";
import { OptioConfigError } from "./errors.js";
import type { SSHConfig } from "./ssh-config.js";
import { hostKeyCheck, sshCredentials } from "./ssh-handshake.js";

const base = { host: "127.0.0.1", port: 22, username: "u" } as SSHConfig;
const missing = "/nonexistent/optio-ssh-handshake-test";

describe("files a config names", () => {
  it("an identity file that cannot be read is an OptioConfigError naming the field and the file", async () => {
    const ssh2 = await import("ssh2");
    const error = await sshCredentials(ssh2, { ...base, identityFile: missing }).catch((e: unknown) => e);
    expect(OptioConfigError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(`ssh.identityFile cannot be read: ${missing} (ENOENT)`);
  });

  it("a known_hosts file that cannot be read is one too", async () => {
    const error = await hostKeyCheck({ ...base, knownHostsFile: missing }).catch((e: unknown) => e);
    expect(OptioConfigError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(`ssh.knownHostsFile cannot be read: ${missing} (ENOENT)`);
  });
});
