import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalHost } from "@optio/host";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VendorScriptError } from "./install-errors.js";
import type { InstallContext } from "./registry-package.js";
import { startStaticServer, type StaticServer } from "./test-registry.js";
import { installViaVendorScript } from "./vendor-script.js";

let root: string;
let host: LocalHost;
let server: StaticServer;
const ctx = (): InstallContext => ({ host, reportProgress: () => {}, signal: new AbortController().signal });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "optio-vendor-"));
  host = new LocalHost({
    consumer: "installtest",
    processId: "vendor",
    env: { INSTALLTEST_TASK_ROOT: join(root, "tasks") },
  });
  await host.connect();
  server = await startStaticServer();
});

afterAll(async () => {
  await server?.close();
  await host?.disconnect();
  await rm(root, { recursive: true, force: true });
});

describe("installViaVendorScript", () => {
  it("fetches the script on the host and runs it with the given variables", async () => {
    const bin = join(root, "bin");
    server.route(
      "/install.sh",
      200,
      `set -e\nmkdir -p '${bin}'\nprintf '#!/bin/sh\\necho "%s"\\n' "$GREETING" > '${bin}/tool'\nchmod 755 '${bin}/tool'\n`,
    );
    await installViaVendorScript(ctx(), {
      url: `${server.url}/install.sh`,
      env: { GREETING: "hello from the installer" },
    });
    expect((await host.runChecked(join(bin, "tool"))).stdout).toBe("hello from the installer\n");
    expect(server.hits.get("/install.sh")).toBe(1);
  });

  it("surfaces the script's exit code and stderr", async () => {
    server.route("/fail.sh", 200, "echo 'unsupported distribution: plan9' >&2\nexit 7\n");
    const error = await installViaVendorScript(ctx(), { url: `${server.url}/fail.sh` }).catch((e: unknown) => e);
    expect(VendorScriptError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ exitCode: 7, url: `${server.url}/fail.sh` });
    expect((error as VendorScriptError).stderrTail).toContain("unsupported distribution: plan9");
    expect((error as Error).message).toContain("code 7");
  });

  it("reports a failed download instead of running an empty script", async () => {
    const error = await installViaVendorScript(ctx(), { url: `${server.url}/missing.sh` }).catch((e: unknown) => e);
    expect(VendorScriptError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(`could not download the installer ${server.url}/missing.sh`);
    expect((error as VendorScriptError).stderrTail).toContain("404");
  });

  it("falls back to wget when curl is not on the host's PATH", async () => {
    const which = await host.runCommand("command -v wget");
    const pathDir = join(root, "no-curl");
    await host.runChecked(
      `mkdir -p '${pathDir}' && for t in sh bash mktemp rm wget cat mkdir chmod; do p=$(command -v $t) && ln -sf "$p" '${pathDir}'/$t; done`,
    );
    const marker = join(root, "wget-marker");
    server.route("/wget.sh", 200, `echo done > '${marker}'\n`);
    const error = await installViaVendorScript(
      { ...ctx(), host: withPath(host, pathDir) },
      { url: `${server.url}/wget.sh` },
    ).catch((e: unknown) => e);
    if (which.exitCode === 0) {
      expect(error).toBeUndefined();
      expect(existsSync(marker)).toBe(true);
    } else {
      expect(error).toMatchObject({ exitCode: 180 });
      expect((error as Error).message).toContain("neither curl nor wget");
    }
    expect((await readdir(tmpdir())).filter((f) => f.startsWith("optio-install."))).toEqual([]);
  });
});

/** The same host, with PATH replaced for every command (a host without curl). */
function withPath(base: LocalHost, path: string): LocalHost {
  return new Proxy(base, {
    get(target, prop, receiver) {
      if (prop === "runCommand") {
        return (command: string, options: Parameters<LocalHost["runCommand"]>[1] = {}) =>
          target.runCommand(command, { ...options, env: { ...options.env, PATH: path } });
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
