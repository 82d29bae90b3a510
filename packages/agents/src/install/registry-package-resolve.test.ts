import { describe, expect, it } from "vitest";
import type { HostPlatform } from "./host-platform.js";
import { InvalidRegistrySpecError } from "./install-errors.js";
import { resolveRegistryPackage, takesEntry } from "./registry-package.js";

const linux: HostPlatform = { os: "linux", arch: "x64", libc: "glibc" };
const mac: HostPlatform = { os: "darwin", arch: "arm64", libc: null };
const triple = (p: HostPlatform) =>
  `${p.arch === "x64" ? "x86_64" : "aarch64"}-${p.os === "darwin" ? "apple-darwin" : "unknown-linux-musl"}`;

describe("resolveRegistryPackage", () => {
  const codexLike = {
    agent: "codex",
    packageName: "@openai/codex",
    binaryInPackage: (p: HostPlatform) => `vendor/${triple(p)}/bin/codex`,
    files: (p: HostPlatform) => [`vendor/${triple(p)}/codex-path/rg`, `vendor/${triple(p)}/codex-resources/`],
  };

  it("evaluates each per-platform field for the host's platform", () => {
    expect(resolveRegistryPackage(codexLike, linux)).toEqual({
      packageName: "@openai/codex",
      binary: "vendor/x86_64-unknown-linux-musl/bin/codex",
      paths: [
        "vendor/x86_64-unknown-linux-musl/bin/codex",
        "vendor/x86_64-unknown-linux-musl/codex-path/rg",
        "vendor/x86_64-unknown-linux-musl/codex-resources",
      ],
    });
    expect(resolveRegistryPackage(codexLike, mac).binary).toBe("vendor/aarch64-apple-darwin/bin/codex");
  });

  it("takes fixed values as they are, with the executable once and first", () => {
    const spec = {
      agent: "t",
      packageName: (p: HostPlatform) => `tool-${p.os}-${p.arch}`,
      binaryInPackage: "bin/tool",
      files: ["./bin/tool", "lib/"],
    };
    expect(resolveRegistryPackage(spec, mac)).toEqual({
      packageName: "tool-darwin-arm64",
      binary: "bin/tool",
      paths: ["bin/tool", "lib"],
    });
  });

  it("refuses a path outside the package, naming the field", () => {
    for (const [field, spec] of [
      ["binaryInPackage", { agent: "t", packageName: "t", binaryInPackage: "../escape" }],
      ["files", { agent: "t", packageName: "t", binaryInPackage: "bin/t", files: ["/etc/passwd"] }],
      ["files", { agent: "t", packageName: "t", binaryInPackage: "bin/t", files: ["a/../../b"] }],
      ["binaryInPackage", { agent: "t", packageName: "t", binaryInPackage: "." }],
    ] as const) {
      const error = (() => {
        try {
          return resolveRegistryPackage(spec, linux);
        } catch (e) {
          return e;
        }
      })();
      expect(InvalidRegistrySpecError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ field });
    }
  });
});

describe("takesEntry", () => {
  it("takes a named file and everything under a named folder, nothing that only shares a prefix", () => {
    const paths = ["bin/tool", "res"];
    expect(takesEntry(paths, "bin/tool")).toBe(true);
    expect(takesEntry(paths, "res/a")).toBe(true);
    expect(takesEntry(paths, "res/deep/b")).toBe(true);
    expect(takesEntry(paths, "resources/a")).toBe(false);
    expect(takesEntry(paths, "bin/tool2")).toBe(false);
    expect(takesEntry(paths, "bin")).toBe(false);
  });
});
