import { randomBytes } from "node:crypto";
import { open, readFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { beforeAll, describe, expect, it } from "vitest";
import { archiveEntries, collect, type ContractScope, tarGz, scopedHost } from "./host-contract-helpers.js";

/** Archives of the workdir and restores into it. */
export function archivesContract(scope: ContractScope): void {
  describe("archives", () => {
    const host = scopedHost(scope);
    beforeAll(async () => {
      await host.runChecked(
        [
          "rm -rf arch && mkdir -p arch/src/pkg arch/empty/inner arch/.git arch/node_modules/m arch/src/node_modules/n arch/src/__pycache__",
          "printf 'print(1)\\n' > arch/src/pkg/main.py",
          "printf 'x' > arch/src/pkg/main.pyc",
          "printf 'x' > arch/top.pyc",
          "printf 'x' > arch/.git/HEAD",
          "printf 'x' > arch/node_modules/m/i.js",
          "printf 'x' > arch/src/node_modules/n/i.js",
          "printf 'x' > arch/src/__pycache__/c",
          "printf '#!/bin/sh\\n' > arch/run.sh && chmod 755 arch/run.sh",
          "printf 'secret' > arch/secret && chmod 600 arch/secret",
          "ln -s src/pkg/main.py arch/link-to-main",
          "ln -s pkg arch/src/dirlink",
        ].join(" && "),
      );
    });

    /** Archives the `arch` fixture by treating it as the workdir's content. */
    async function archiveOf(options?: { exclude?: readonly string[]; include?: readonly string[] }) {
      return archiveEntries(await collect(host.archiveWorkdir({ ...options, include: options?.include ?? ["arch"] })));
    }

    it("applies the default excludes to every segment and to *.pyc", async () => {
      const names = [...(await archiveOf()).keys()];
      expect(names).toContain("arch/src/pkg/main.py");
      expect(names).toContain("arch/empty/inner");
      for (const gone of [
        "arch/.git",
        "arch/node_modules",
        "arch/src/node_modules",
        "arch/src/__pycache__",
        "arch/top.pyc",
        "arch/src/pkg/main.pyc",
      ]) {
        expect(
          names.filter((n) => n === gone || n.startsWith(`${gone}/`)),
          gone,
        ).toEqual([]);
      }
    });

    it("keeps everything with an explicit empty list and does not merge a custom list with the defaults", async () => {
      const all = [...(await archiveOf({ exclude: [] })).keys()];
      for (const kept of ["arch/.git/HEAD", "arch/node_modules/m/i.js", "arch/src/pkg/main.pyc", "arch/top.pyc"])
        expect(all).toContain(kept);
      const custom = [...(await archiveOf({ exclude: ["*.py", "empty"] })).keys()];
      expect(custom).toContain("arch/.git/HEAD");
      expect(custom).toContain("arch/src/pkg/main.pyc");
      expect(custom).not.toContain("arch/src/pkg/main.py");
      expect(custom.filter((n) => n.startsWith("arch/empty"))).toEqual([]);
    });

    it("archives only the included paths that exist", async () => {
      const names = [...(await archiveOf({ include: ["arch/src/pkg", "arch/run.sh", "arch/missing"] })).keys()];
      expect(names.sort()).toEqual(["arch/run.sh", "arch/src/pkg", "arch/src/pkg/main.py"]);
    });

    it("round-trips files, empty dirs, modes and symlinks, emptying the workdir first", async () => {
      const archive = await collect(host.archiveWorkdir({ include: ["arch"] }));
      await host.writeText("stray.txt", "should vanish");
      await host.restoreWorkdir(Readable.from([archive]));
      expect(await host.stat("stray.txt")).toBeNull();
      expect(await host.stat(host.workdir)).toMatchObject({ type: "directory", mode: 0o700 });
      expect((await host.readFile("arch/src/pkg/main.py")).toString()).toBe("print(1)\n");
      expect(await host.stat("arch/empty/inner")).toMatchObject({ type: "directory" });
      expect((await host.stat("arch/run.sh"))!.mode).toBe(0o755);
      expect((await host.stat("arch/secret"))!.mode).toBe(0o600);
      expect(await host.stat("arch/link-to-main")).toMatchObject({ type: "symlink" });
      expect((await host.runChecked("readlink arch/link-to-main arch/src/dirlink")).stdout).toBe(
        "src/pkg/main.py\npkg\n",
      );
      expect((await host.readFile("arch/src/dirlink/main.py")).toString()).toBe("print(1)\n");
      expect(await host.stat("arch/.git")).toBeNull();
    });

    it("round-trips through files, which stay open, reading from the file's start", async () => {
      const file = path.join(scope.scratch, `archive-${randomBytes(4).toString("hex")}.tar.gz`);
      const out = await open(file, "wx");
      try {
        await host.archiveWorkdirToFile(out, { include: ["arch"] });
        expect((await out.stat()).size).toBeGreaterThan(0);
      } finally {
        await out.close();
      }
      expect([...(await archiveEntries(await readFile(file))).keys()]).toContain("arch/src/pkg/main.py");
      await host.writeText("stray.txt", "should vanish");
      const input = await open(file, "r");
      try {
        // Moves the file's offset: the restore must not depend on it.
        await input.read(Buffer.alloc(100), 0, 100, null);
        await host.restoreWorkdirFromFile(input);
        expect((await input.stat()).size).toBeGreaterThan(0);
      } finally {
        await input.close();
      }
      expect(await host.stat("stray.txt")).toBeNull();
      expect(await host.stat(host.workdir)).toMatchObject({ type: "directory", mode: 0o700 });
      expect((await host.readFile("arch/src/pkg/main.py")).toString()).toBe("print(1)\n");
      expect((await host.stat("arch/secret"))!.mode).toBe(0o600);
      expect((await host.runChecked("readlink arch/src/dirlink")).stdout).toBe("pkg\n");
      expect(await host.stat("arch/.git")).toBeNull();
    });

    it("keeps existing files when clear is false", async () => {
      await host.writeText("kept.txt", "kept");
      await host.restoreWorkdir(Readable.from([await tarGz([{ name: "added.txt", body: "added" }])]), { clear: false });
      expect((await host.readFile("kept.txt")).toString()).toBe("kept");
      expect((await host.readFile("added.txt")).toString()).toBe("added");
    });

    it("restores bytes in memory, clearing the workdir or laying them over it", async () => {
      const archive = await collect(host.archiveWorkdir({ include: ["arch/src", "arch/run.sh"] }));
      await host.writeText("stray.txt", "should vanish");
      await host.restoreWorkdirFromBytes(archive);
      expect(await host.stat("stray.txt")).toBeNull();
      expect(await host.stat(host.workdir)).toMatchObject({ type: "directory", mode: 0o700 });
      expect((await host.readFile("arch/src/pkg/main.py")).toString()).toBe("print(1)\n");
      expect((await host.stat("arch/run.sh"))!.mode).toBe(0o755);
      await host.restoreWorkdirFromBytes(await tarGz([{ name: "home/extra.txt", body: "extra" }]), { clear: false });
      expect((await host.readFile("home/extra.txt")).toString()).toBe("extra");
      expect((await host.readFile("arch/src/pkg/main.py")).toString()).toBe("print(1)\n");
    });
  });
}
