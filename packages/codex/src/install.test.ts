import { adapterTestContext, type AdapterTestContext } from "@optio/agents/testing";
import { resolveRegistryPackage } from "@optio/agents/install";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { codexRegistryPackage, probeCodex } from "./install.js";

let ctx: AdapterTestContext;
beforeEach(async () => {
  ctx = await adapterTestContext();
});
afterEach(async () => {
  await ctx.dispose();
});

describe("codexRegistryPackage", () => {
  it("takes the platform's version of @openai/codex and its whole target folder", () => {
    const x64 = { os: "linux", arch: "x64", libc: "glibc" } as const;
    expect(resolveRegistryPackage(codexRegistryPackage, x64)).toEqual({
      packageName: "@openai/codex",
      binary: "vendor/x86_64-unknown-linux-musl/bin/codex",
      paths: ["vendor/x86_64-unknown-linux-musl/bin/codex", "vendor/x86_64-unknown-linux-musl"],
    });
    expect(codexRegistryPackage.packageVersion("0.171.0", x64)).toBe("0.171.0-linux-x64");
    expect(resolveRegistryPackage(codexRegistryPackage, { ...x64, arch: "arm64", libc: "musl" }).binary).toBe(
      "vendor/aarch64-unknown-linux-musl/bin/codex",
    );
  });
});

describe("probeCodex", () => {
  async function place(text: string): Promise<string> {
    const dir = join(ctx.workdir, "bin");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "codex"), text, { mode: 0o755 });
    return join(dir, "codex");
  }

  it("reads the version codex-cli prints, with CODEX_HOME in the task's HOME", async () => {
    const path = await place('#!/bin/sh\n[ "$CODEX_HOME" = "$HOME/.codex" ] && echo "codex-cli 0.171.0"\n');
    expect(await probeCodex(ctx.host, path, ctx.home)).toBe("0.171.0");
  });

  it("is null for something else, or nothing", async () => {
    expect(await probeCodex(ctx.host, await place("#!/bin/sh\necho 'other 1.0.0'\n"), ctx.home)).toBeNull();
    expect(await probeCodex(ctx.host, join(ctx.workdir, "missing"), ctx.home)).toBeNull();
  });
});
