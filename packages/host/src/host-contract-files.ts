import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { HostFileError } from "./errors.js";
import { collect, type ContractScope, scopedHost } from "./host-contract-helpers.js";

/** Layout, files, links and stats. */
export function filesContract(scope: ContractScope): void {
  describe("layout and files", () => {
    const host = scopedHost(scope);

    it("creates taskDir and workdir with mode 0700", async () => {
      expect(host.workdir).toBe(`${host.taskDir}/workdir`);
      expect((await host.stat(host.taskDir))?.mode! & 0o777).toBe(0o700);
      expect(await host.stat(host.workdir)).toMatchObject({ type: "directory" });
      expect((await host.stat(host.workdir))!.mode & 0o777).toBe(0o700);
      await host.connect();
      expect((await host.stat(host.workdir))!.mode & 0o777).toBe(0o700);
    });

    it("resolves paths against the workdir", async () => {
      expect(host.resolvePath("a/../b/./c")).toBe(`${host.workdir}/b/c`);
      expect(host.resolvePath("/x/y/../z")).toBe("/x/z");
      const home = await host.resolveHome();
      expect(home.startsWith("/")).toBe(true);
    });

    it("stats a file's modification time", async () => {
      await host.writeText("dated.txt", "x");
      await host.runChecked("touch -m -d @1700000000 dated.txt");
      expect((await host.stat("dated.txt"))!.mtimeMs).toBe(1_700_000_000_000);
    });

    it("writes text atomically, creating parents and applying the mode", async () => {
      await host.writeText("deep/er/secret.txt", "one", { mode: 0o600 });
      expect((await host.readFile("deep/er/secret.txt")).toString()).toBe("one");
      expect(await host.stat("deep/er/secret.txt")).toEqual({
        type: "file",
        size: 3,
        mode: 0o600,
        mtimeMs: expect.any(Number) as number,
      });
      await host.writeText("deep/er/secret.txt", "two");
      expect((await host.readFile("deep/er/secret.txt")).toString()).toBe("two");
      expect((await host.stat("deep/er/secret.txt"))!.mode).toBe(0o600);
      await host.writeFile(`${host.workdir}/deep/er/script.sh`, "#!/bin/sh\n", { mode: 0o755 });
      expect((await host.stat("deep/er/script.sh"))!.mode).toBe(0o755);
      const listing = await host.runChecked("ls -A", { cwd: "deep/er" });
      expect(listing.stdout.split("\n").filter(Boolean).sort()).toEqual(["script.sh", "secret.txt"]);
    });

    it("round-trips binary bytes through writeFile, readFile and createReadStream", async () => {
      const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(300_000)]);
      await host.writeFile("bin/data.bin", bytes);
      expect((await host.readFile("bin/data.bin")).equals(bytes)).toBe(true);
      expect((await collect(host.createReadStream("bin/data.bin"))).equals(bytes)).toBe(true);
      await expect(host.readFile("bin/missing.bin")).rejects.toMatchObject({ code: "file_not_found" });
    });

    it("puts files from bytes, a local path and an async iterable, with monotone progress", async () => {
      const bytes = randomBytes(3 * 1024 * 1024 + 17);
      const seen: number[] = [];
      const first = await host.putFile("put/a.bin", bytes, {
        onProgress: (sent, total) => {
          seen.push(sent);
          expect(total).toBe(bytes.length);
        },
      });
      expect(first).toMatchObject({ skipped: false, bytes: bytes.length });
      expect(seen.at(-1)).toBe(bytes.length);
      expect(seen.every((v, i) => i === 0 || v >= seen[i - 1]!)).toBe(true);
      expect((await host.readFile("put/a.bin")).equals(bytes)).toBe(true);

      const local = path.join(scope.scratch, "local.bin");
      await writeFile(local, bytes);
      const second = await host.putFile("put/b.bin", { localPath: local }, { mode: 0o640 });
      expect(second.sha256).toBe(first.sha256);
      expect((await host.stat("put/b.bin"))!.mode).toBe(0o640);
      expect((await host.readFile("put/b.bin")).equals(bytes)).toBe(true);

      async function* parts() {
        for (let i = 0; i < bytes.length; i += 100_000) yield bytes.subarray(i, i + 100_000);
      }
      const progress: Array<[number, number | null]> = [];
      const third = await host.putFile("put/c.bin", parts(), { onProgress: (s, t) => progress.push([s, t]) });
      expect(third).toMatchObject({ skipped: false, bytes: bytes.length, sha256: first.sha256 });
      expect(progress.at(-1)?.[0]).toBe(bytes.length);
      expect(progress.every(([s], i) => i === 0 || s >= progress[i - 1]![0])).toBe(true);
      expect((await host.readFile("put/c.bin")).equals(bytes)).toBe(true);
    });

    it("skips an unchanged file by sha256 and replaces a changed one", async () => {
      const bytes = Buffer.from("same content\n");
      expect((await host.putFile("skip/f.txt", bytes, { skipIfUnchanged: true })).skipped).toBe(false);
      expect((await host.putFile("skip/f.txt", bytes, { skipIfUnchanged: true })).skipped).toBe(true);
      expect(
        (
          await host.putFile(
            "skip/f.txt",
            (async function* () {
              yield bytes;
            })(),
            { skipIfUnchanged: true },
          )
        ).skipped,
      ).toBe(true);
      const changed = await host.putFile("skip/f.txt", Buffer.from("other\n"), { skipIfUnchanged: true });
      expect(changed.skipped).toBe(false);
      expect((await host.readFile("skip/f.txt")).toString()).toBe("other\n");
    });

    it("removes trees idempotently and makes directories with a mode", async () => {
      await host.mkdir("gone/a/b", { mode: 0o750 });
      expect(await host.stat("gone/a/b")).toMatchObject({ type: "directory", mode: 0o750 });
      await host.writeText("gone/a/b/f", "x");
      await host.remove("gone");
      expect(await host.stat("gone")).toBeNull();
      await host.remove("gone");
      await host.remove("never/was");
    });

    it("refuses to make a directory where a file is in the way", async () => {
      await host.writeText("blocked/file", "x");
      await expect(host.mkdir("blocked/file")).rejects.toBeInstanceOf(HostFileError);
      await expect(host.mkdir("blocked/file/below", { mode: 0o700 })).rejects.toBeInstanceOf(HostFileError);
      expect((await host.readFile("blocked/file")).toString()).toBe("x");
    });

    it("makes symlinks with their parents and replaces a link or file in their place", async () => {
      await host.writeText("links/one.txt", "one");
      await host.writeText("links/two.txt", "two");
      await host.symlink(host.resolvePath("links/one.txt"), "links/deep/er/current");
      expect(await host.stat("links/deep/er/current")).toMatchObject({ type: "symlink" });
      expect((await host.readFile("links/deep/er/current")).toString()).toBe("one");
      await host.symlink("../../two.txt", "links/deep/er/current");
      expect(await host.realpath("links/deep/er/current")).toBe(host.resolvePath("links/two.txt"));
      await host.writeText("links/plain", "file");
      await host.symlink(host.resolvePath("links/one.txt"), "links/plain");
      expect((await host.readFile("links/plain")).toString()).toBe("one");
      const left = (await host.runChecked("ls -A links/deep/er links")).stdout;
      expect(left).not.toMatch(/\.tmp/);
    });

    it("stats without following a final symlink and resolves realpath", async () => {
      await host.writeText("real/target.txt", "t");
      await host.runChecked("ln -s target.txt real/link && ln -s nowhere real/dangling");
      expect(await host.stat("real/link")).toMatchObject({ type: "symlink" });
      expect(await host.stat("real/target.txt")).toMatchObject({ type: "file", size: 1 });
      expect(await host.stat("real")).toMatchObject({ type: "directory" });
      expect(await host.stat("real/none")).toBeNull();
      const canonicalWorkdir = await host.realpath(host.workdir);
      expect(await host.realpath("real/link")).toBe(`${canonicalWorkdir}/real/target.txt`);
      expect(await host.realpath("real/none")).toBeNull();
      expect(await host.realpath("real/dangling")).toBeNull();
    });
  });
}
