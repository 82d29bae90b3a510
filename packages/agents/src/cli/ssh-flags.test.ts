import { describe, expect, it } from "vitest";
import { CliUsageError } from "./cli-options.js";
import { parseSshTarget, sshConfigFromFlags, sshFlagsArgv } from "./ssh-flags.js";

describe("parseSshTarget", () => {
  it("splits user, host and port", () => {
    expect(parseSshTarget("dev@example.org")).toEqual({ username: "dev", host: "example.org" });
    expect(parseSshTarget("dev@10.0.0.2:2222")).toEqual({ username: "dev", host: "10.0.0.2", port: 2222 });
    expect(parseSshTarget("dev@[::1]:22")).toEqual({ username: "dev", host: "::1", port: 22 });
  });

  it.each(["example.org", "@host", "dev@", "dev@host:", "dev@host:0", "dev@host:70000", "dev@host:ab", "a b@host"])(
    "rejects %j",
    (text) => {
      expect(() => parseSshTarget(text)).toThrow(CliUsageError);
    },
  );
});

describe("sshConfigFromFlags", () => {
  it("is undefined without --ssh and refuses ssh-only flags alone", () => {
    expect(sshConfigFromFlags({}, "/w")).toBeUndefined();
    expect(() => sshConfigFromFlags({ identity: "k" }, "/w")).toThrow(/--identity only makes sense with --ssh/);
  });

  it("makes key and known_hosts paths absolute", () => {
    expect(sshConfigFromFlags({ ssh: "u@h:2200", identity: "keys/id", knownHosts: "/etc/kh" }, "/w")).toEqual({
      username: "u",
      host: "h",
      port: 2200,
      identityFile: "/w/keys/id",
      knownHostsFile: "/etc/kh",
    });
  });

  it("refuses two ways of checking the host key", () => {
    expect(() => sshConfigFromFlags({ ssh: "u@h", knownHosts: "kh", hostFingerprint: "SHA256:x" }, "/w")).toThrow(
      /--known-hosts and --host-fingerprint cannot be used together/,
    );
    expect(() =>
      sshConfigFromFlags({ ssh: "u@h", hostFingerprint: "SHA256:x", insecureAcceptAnyHostKey: true }, "/w"),
    ).toThrow(CliUsageError);
  });

  it("gives back the flags for the resume command", () => {
    expect(sshFlagsArgv({ ssh: "u@h", identity: "id", insecureAcceptAnyHostKey: true }, "/w")).toEqual([
      "--ssh",
      "u@h",
      "--identity",
      "/w/id",
      "--insecure-accept-any-host-key",
    ]);
    expect(sshFlagsArgv({}, "/w")).toEqual([]);
  });
});
