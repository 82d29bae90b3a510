import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RemoteHost } from "@optio/host";
import { startTestSshd, type TestSshd } from "@optio/host/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installFromRegistry, type InstallContext } from "./registry-package.js";
import { startStaticServer, type StaticServer } from "./test-registry.js";
import { installViaVendorScript } from "./vendor-script.js";

let sshd: TestSshd;
let host: RemoteHost;
let root: string;
let server: StaticServer;
const progress: string[] = [];
const ctx = (): InstallContext => ({
  host,
  reportProgress: (_p, m) => progress.push(m ?? ""),
  signal: new AbortController().signal,
});

beforeAll(async () => {
  sshd = await startTestSshd();
  root = await mkdtemp(join(tmpdir(), "optio-registry-ssh-"));
  host = new RemoteHost({
    consumer: "installtest",
    processId: "ssh",
    ssh: sshd.sshConfig(),
    env: { INSTALLTEST_REMOTE_TASK_ROOT: join(root, "tasks") },
  });
  await host.connect();
  server = await startStaticServer();
});

afterAll(async () => {
  await server?.close();
  await host?.disconnect();
  await sshd?.stop();
  await rm(root, { recursive: true, force: true });
});

describe("installers over SSH", () => {
  it("installs a registry package on the remote host over SFTP, twice at once, intact", async () => {
    const cacheDir = join(root, "remote-cache");
    const spec = {
      agent: "is-number",
      packageName: () => "is-number",
      binaryInPackage: "index.js",
      version: "7.0.0",
      cacheDir,
    };
    const [a, b] = await Promise.all([installFromRegistry(ctx(), spec), installFromRegistry(ctx(), spec)]);
    expect(a).toEqual({ binaryPath: join(cacheDir, "7.0.0", "index.js"), version: "7.0.0" });
    expect(b).toEqual(a);
    expect(await readFile(a.binaryPath, "utf8")).toContain("module.exports = function(num)");
    expect((await stat(a.binaryPath)).mode & 0o777).toBe(0o755);
    expect(await readdir(cacheDir)).toEqual(["7.0.0"]);
    expect(progress.some((m) => m.startsWith("Copying is-number@7.0.0 to the host"))).toBe(true);
  });

  it("runs a vendor script on the remote host", async () => {
    const marker = join(root, "vendor-marker");
    server.route("/install.sh", 200, `echo "$(uname -s)" > '${marker}'\n`);
    await installViaVendorScript(ctx(), { url: `${server.url}/install.sh` });
    expect((await readFile(marker, "utf8")).trim()).toBe("Linux");
  });
});
