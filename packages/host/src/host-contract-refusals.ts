import { randomBytes } from "node:crypto";
import { open, writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { ArchiveError, PathEscapeError, RestoreLimitError } from "./errors.js";
import type { RestoreOptions } from "./host.js";
import { type ContractScope, tarGz, scopedHost } from "./host-contract-helpers.js";
import { shellQuote } from "./shell.js";

/** Links that leave the workdir only on disk: each is listed before the one it resolves through. */
function linkChain(): Promise<Buffer> {
  return tarGz([
    { name: "w", type: "symlink", linkname: "v/.." },
    { name: "v", type: "symlink", linkname: "u/.." },
    { name: "u", type: "symlink", linkname: "x/.." },
    { name: "x", type: "symlink", linkname: "." },
  ]);
}

/** Restores that must be refused (escapes, special entries, limits) and leave the workdir as it was; overlays. */
export function restoreRefusalsContract(scope: ContractScope): void {
  describe("restore refusals and overlays", () => {
    const host = scopedHost(scope);

    const outsideName = `optio-slip-${randomBytes(4).toString("hex")}`;
    type Refusal = "path_escape" | "archive_invalid";
    /** An archive making `name` a link to `target`, then writing a file through it. */
    const throughLink = (name: string, target: string) => () =>
      tarGz([
        { name, type: "symlink", linkname: target },
        { name: `${name}/${outsideName}`, body: "x" },
      ]);
    const hostile: Array<[string, () => Promise<Buffer>, Refusal | Refusal[], string[]]> = [
      [
        "a ../ entry",
        () =>
          tarGz([
            { name: "ok.txt", body: "ok" },
            { name: `../${outsideName}`, body: "x" },
          ]),
        "path_escape",
        [`../${outsideName}`],
      ],
      [
        "an inner .. entry",
        () =>
          tarGz([
            { name: "a/", type: "directory" },
            { name: `a/../../${outsideName}`, body: "x" },
          ]),
        "path_escape",
        [`../${outsideName}`],
      ],
      [
        "an absolute entry",
        () => tarGz([{ name: `/tmp/${outsideName}`, body: "x" }]),
        "path_escape",
        [`/tmp/${outsideName}`],
      ],
      ["a symlink to /etc", throughLink("etc", "/etc"), "path_escape", [`/etc/${outsideName}`, "etc"]],
      ["a symlink to ..", throughLink("up", ".."), "path_escape", [`../${outsideName}`, "up"]],
      // tar names the outside target on stderr while its listing shows a hard link: either refusal may come first.
      [
        "a hardlink to outside",
        () => tarGz([{ name: "hard", type: "link", linkname: `../../${outsideName}` }]),
        ["path_escape", "archive_invalid"],
        ["hard"],
      ],
      [
        "a hardlink inside",
        () =>
          tarGz([
            { name: "f", body: "x" },
            { name: "h", type: "link", linkname: "f" },
          ]),
        "archive_invalid",
        ["f", "h"],
      ],
      [
        "a write through an earlier symlink",
        () =>
          tarGz([
            { name: "sub/", type: "directory" },
            { name: "via", type: "symlink", linkname: "sub" },
            { name: `via/${outsideName}`, body: "x" },
          ]),
        "path_escape",
        [`sub/${outsideName}`, "via"],
      ],
      [
        "a directory replacing an earlier symlink",
        () =>
          tarGz([
            { name: "s", type: "symlink", linkname: "sub" },
            { name: "s/", type: "directory" },
          ]),
        "path_escape",
        ["s"],
      ],
      ["a FIFO", () => tarGz([{ name: "p", type: "fifo" }]), "archive_invalid", ["p"]],
      ["a device", () => tarGz([{ name: "dev", type: "character-device" }]), "archive_invalid", ["dev"]],
      [
        "a truncated gzip",
        () =>
          tarGz(
            [
              { name: "big.txt", body: "z".repeat(200_000) },
              { name: "after.txt", body: "a" },
            ],
            40,
          ),
        "archive_invalid",
        ["after.txt", "big.txt"],
      ],
      ["bytes that are not gzip", async () => Buffer.from("not a gzip stream at all"), "archive_invalid", []],
    ];
    async function restoreFromFile(bytes: Buffer, options: RestoreOptions): Promise<void> {
      const file = path.join(scope.scratch, `hostile-${randomBytes(4).toString("hex")}.tar.gz`);
      await writeFile(file, bytes);
      const input = await open(file, "r");
      try {
        await host.restoreWorkdirFromFile(input, options);
      } finally {
        await input.close();
      }
    }
    const restorers: Array<[string, (bytes: Buffer, options: RestoreOptions) => Promise<void>]> = [
      ["a stream", (bytes, options) => host.restoreWorkdir(Readable.from([bytes]), options)],
      ["a file", restoreFromFile],
      ["bytes in memory", (bytes, options) => host.restoreWorkdirFromBytes(bytes, options)],
    ];
    const modes: Array<[string, boolean]> = [
      ["clearing", true],
      ["merging", false],
    ];

    /** Puts a known workdir in place; `intact` checks it is still exactly that and nothing of a restore is left beside it. */
    async function knownWorkdir(): Promise<{ intact: () => Promise<void> }> {
      await host.runChecked(
        "find . -mindepth 1 -delete && mkdir -p keep/sub && printf kept > keep/sub/kept.txt && ln -s sub keep/link",
      );
      const before = (await host.runChecked("find . | sort")).stdout;
      return {
        intact: async () => {
          expect((await host.runChecked("find . | sort")).stdout).toBe(before);
          expect((await host.readFile("keep/link/kept.txt")).toString()).toBe("kept");
          expect(
            (await host.runChecked(`ls -A ${shellQuote(host.taskDir)}`)).stdout
              .split("\n")
              .filter((n) => n.startsWith(".")),
          ).toEqual([]);
        },
      };
    }

    it("stops an archive over maxEntries or maxBytes with RestoreLimitError, keeping the workdir", async () => {
      const many = await tarGz([
        { name: "a", body: "1" },
        { name: "b", body: "2" },
        { name: "c", body: "3" },
      ]);
      const big = await tarGz([
        { name: "small", body: "x" },
        { name: "bomb", body: "z".repeat(100_000) },
      ]);
      // Headers that declare nothing: only the unpacked stream shows the size.
      const padded = await tarGz([{ name: "quiet", body: "q", pax: { comment: "p".repeat(8 * 1024 * 1024) } }]);
      for (const [from, restore] of restorers) {
        for (const [mode, clear] of modes) {
          const { intact } = await knownWorkdir();
          const attempts: Array<[string, () => Promise<void>]> = [
            ["entries", () => restore(many, { clear, maxEntries: 2 })],
            ["header bytes", () => restore(big, { clear, maxBytes: 50_000 })],
            ["unpacked bytes", () => restore(padded, { clear, maxBytes: 2 * 1024 * 1024 })],
          ];
          for (const [what, attempt] of attempts) {
            const error = await attempt().catch((e: unknown) => e);
            expect(RestoreLimitError.isInstance(error), `${from}, ${mode}, ${what}: ${String(error)}`).toBe(true);
            await intact();
          }
        }
      }
    });

    describe.each(restorers)("restoring from %s", (_from, restore) => {
      describe.each(modes)("%s", (_mode, clear) => {
        it.each(hostile)(
          "refuses %s with a typed error, writes nothing outside and leaves the workdir as it was",
          async (_what, build, code, absent) => {
            const { intact } = await knownWorkdir();
            const error = await restore(await build(), { clear }).catch((e: unknown) => e);
            expect(PathEscapeError.isInstance(error) || ArchiveError.isInstance(error), String(error)).toBe(true);
            expect([code].flat(), String(error)).toContain((error as { code: string }).code);
            for (const p of absent) expect(await host.stat(p), p).toBeNull();
            await intact();
          },
        );

        it("refuses a chain of links that leaves the workdir only on disk, leaving the workdir as it was", async () => {
          const { intact } = await knownWorkdir();
          // Each link is listed before the one it resolves through, so no check of the listing alone sees the escape.
          const chain = await linkChain();
          const error = await restore(chain, { clear }).catch((e: unknown) => e);
          expect(PathEscapeError.isInstance(error), String(error)).toBe(true);
          await intact();
        });

        it("refuses an overlay written through the chain, writing nothing outside", async () => {
          const { intact } = await knownWorkdir();
          const chain = await linkChain();
          const overlay = { archive: await tarGz([{ name: `w/${outsideName}`, body: "x" }]) };
          const error = await restore(chain, { clear, overlay }).catch((e: unknown) => e);
          expect(PathEscapeError.isInstance(error), String(error)).toBe(true);
          expect(await host.stat(`${host.taskDir}/${outsideName}`)).toBeNull();
          await intact();
        });

        it("refuses a tree that leaves the workdir only once the overlay replaced a path", async () => {
          const { intact } = await knownWorkdir();
          // Alone, `a` resolves through `b` to x/y/../.. (the root); once the overlay makes `b` a directory, to `..`.
          const base = await tarGz([
            { name: "x/y/", type: "directory" },
            { name: "b", type: "symlink", linkname: "x/y" },
            { name: "a", type: "symlink", linkname: "b/../.." },
          ]);
          const overlay = { archive: await tarGz([{ name: "b/", type: "directory" }]), replaces: ["b"] };
          await expect(restore(base, { clear })).resolves.toBeUndefined();
          await knownWorkdir();
          const error = await restore(base, { clear, overlay }).catch((e: unknown) => e);
          expect(PathEscapeError.isInstance(error), String(error)).toBe(true);
          await intact();
        });
      });

      it("lays an overlay over the archive, replacing its paths, and swaps both in at once", async () => {
        await knownWorkdir();
        const base = await tarGz([
          { name: "home/.agent/old.txt", body: "stale" },
          { name: "src/main.txt", body: "main" },
        ]);
        const overlay = {
          archive: await tarGz([{ name: "home/.agent/new.txt", body: "fresh" }]),
          replaces: ["home/.agent"],
        };
        await restore(base, { clear: true, overlay });
        expect((await host.readFile("src/main.txt")).toString()).toBe("main");
        expect((await host.readFile("home/.agent/new.txt")).toString()).toBe("fresh");
        expect(await host.stat("home/.agent/old.txt")).toBeNull();
        expect(await host.stat("keep")).toBeNull();
        expect(await host.stat(host.workdir)).toMatchObject({ type: "directory", mode: 0o700 });
      });

      it("refuses to merge into a workdir holding a link out, writing nothing through it", async () => {
        await host.symlink("..", "way-out");
        try {
          const error = await restore(await tarGz([{ name: `way-out/${outsideName}`, body: "x" }]), {
            clear: false,
          }).catch((e: unknown) => e);
          expect(PathEscapeError.isInstance(error)).toBe(true);
          expect(await host.stat(`${host.taskDir}/${outsideName}`)).toBeNull();
        } finally {
          await host.remove("way-out");
        }
      });
    });
  });
}
