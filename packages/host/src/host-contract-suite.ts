import { randomBytes } from "node:crypto";
import { mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import * as tar from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArchiveError, HostCommandError, HostFileError, OptioAbortError, OptioTimeoutError, PathEscapeError, RestoreLimitError, UnsafeFileError } from "./errors.js";
import type { Host, ProcessHandle, RestoreOptions } from "./host.js";
import { splitLines } from "./line-splitter.js";
import { shellQuote } from "./shell.js";
import { withTimeout } from "./with-timeout.js";

export interface HostContractSetup {
  host: Host;
  cleanup?: () => Promise<void>;
}

type TarEntry = { name: string; type?: "file" | "directory" | "symlink" | "link" | "fifo" | "character-device"; linkname?: string; body?: string; pax?: Record<string, string> };

/** Polls `check` until it returns a value other than undefined/false, failing after `timeoutMs`. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function tarGz(entries: TarEntry[], truncate = 0): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) pack.entry({ name: e.name, type: e.type ?? "file", linkname: e.linkname, pax: e.pax }, e.body ?? "");
  pack.finalize();
  const gz = gzipSync(await collect(pack as unknown as Readable));
  return truncate > 0 ? gz.subarray(0, gz.length - truncate) : gz;
}

async function archiveEntries(archive: Buffer): Promise<Map<string, { type: string; mode: number; linkname: string | null }>> {
  const { gunzipSync } = await import("node:zlib");
  const extract = tar.extract();
  const out = new Map<string, { type: string; mode: number; linkname: string | null }>();
  const done = (async () => {
    for await (const entry of extract) {
      const name = entry.header.name.replace(/^(\.\/)+/, "").replace(/\/$/, "");
      if (name !== "" && name !== ".") out.set(name, { type: entry.header.type, mode: entry.header.mode, linkname: entry.header.linkname || null });
      entry.resume();
    }
  })();
  extract.end(gunzipSync(archive));
  await done;
  return out;
}

/** Pids among `pids` that still exist on the host and are not zombies (a zombie reaped between `kill -0` and `ps` has no state: gone). */
async function livePids(host: Host, pids: number[]): Promise<number[]> {
  const script = `for p in ${pids.join(" ")}; do if kill -0 "$p" 2>/dev/null; then s=$(ps -o stat= -p "$p" 2>/dev/null); case "$s" in ""|Z*) ;; *) echo "$p" ;; esac; fi; done`;
  const result = await host.runChecked(script);
  return result.stdout.split("\n").filter(Boolean).map(Number);
}

/** Reads lines from a handle's stdout until `count` of them have arrived. */
async function readLines(handle: ProcessHandle, count: number): Promise<string[]> {
  const lines: string[] = [];
  if (count === 0) return lines;
  for await (const line of splitLines(handle.stdout)) {
    lines.push(line);
    if (lines.length === count) break;
  }
  return lines;
}

/**
 * The behaviour every Host must show, run identically against LocalHost and
 * RemoteHost. `setup` returns a host that is not yet connected.
 */
export function hostContractSuite(name: string, setup: () => Promise<HostContractSetup>): void {
  describe(`Host contract: ${name}`, () => {
    let host: Host;
    let cleanup: (() => Promise<void>) | undefined;
    let scratch: string;
    const weird = `sp ace 'q' "dq" $HOME \`echo no\` \\ tab\there\nline2`;

    beforeAll(async () => {
      ({ host, cleanup } = await setup());
      await host.connect();
      scratch = await mkdtemp(path.join(os.tmpdir(), "optio-contract-"));
    });

    afterAll(async () => {
      await host?.disconnect();
      await cleanup?.();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    describe("layout and files", () => {
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
        expect(await host.stat("deep/er/secret.txt")).toEqual({ type: "file", size: 3, mode: 0o600, mtimeMs: expect.any(Number) as number });
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
        const first = await host.putFile("put/a.bin", bytes, { onProgress: (sent, total) => { seen.push(sent); expect(total).toBe(bytes.length); } });
        expect(first).toMatchObject({ skipped: false, bytes: bytes.length });
        expect(seen.at(-1)).toBe(bytes.length);
        expect(seen.every((v, i) => i === 0 || v >= seen[i - 1]!)).toBe(true);
        expect((await host.readFile("put/a.bin")).equals(bytes)).toBe(true);

        const local = path.join(scratch, "local.bin");
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
        expect((await host.putFile("skip/f.txt", (async function* () { yield bytes; })(), { skipIfUnchanged: true })).skipped).toBe(true);
        const changed = await host.putFile("skip/f.txt", Buffer.from("other\n"), { skipIfUnchanged: true });
        expect(changed.skipped).toBe(false);
        expect((await host.readFile("skip/f.txt")).toString()).toBe("other\n");
      });

      it("removes trees idempotently and makes directories with a mode", async () => {
        await host.mkdir("gone/a/b", { mode: 0o750 });
        expect((await host.stat("gone/a/b"))).toMatchObject({ type: "directory", mode: 0o750 });
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

    describe("commands", () => {
      it("reports exit codes, stdout and stderr without throwing", async () => {
        expect(await host.runCommand("echo out; echo err >&2; exit 7")).toEqual({ stdout: "out\n", stderr: "err\n", exitCode: 7 });
        expect((await host.runCommand("true")).exitCode).toBe(0);
      });

      it("passes env values and paths with spaces, quotes, $, backquotes and newlines intact", async () => {
        const env = await host.runCommand(`printf '%s' "$WEIRD"`, { env: { WEIRD: weird } });
        expect(env.stdout).toBe(weird);
        await host.writeText(`q/${weird}/file.txt`, "inside");
        const dir = host.resolvePath(`q/${weird}`);
        expect((await host.runChecked(`cat ${shellQuote(`${dir}/file.txt`)}`)).stdout).toBe("inside");
        expect((await host.runChecked(`printf '%s' "$PWD"`, { cwd: dir })).stdout).toBe(dir);
        expect((await host.runChecked(`printf '%s' ${shellQuote(weird)}`)).stdout).toBe(weird);
      });

      it("runs in the workdir by default and in cwd when given", async () => {
        expect((await host.runChecked("pwd -P")).stdout.trim()).toBe(await host.realpath(host.workdir));
        expect((await host.runChecked("pwd -P", { cwd: "/" })).stdout.trim()).toBe("/");
      });

      it("pipes stdin and closes it", async () => {
        expect((await host.runChecked("cat; echo done", { stdin: "abc\n" })).stdout).toBe("abc\ndone\n");
        expect((await host.runChecked("wc -c", { stdin: new Uint8Array([1, 2, 3]) })).stdout.trim()).toBe("3");
        expect((await host.runChecked("cat; echo eof")).stdout).toBe("eof\n");
      });

      it("kills the command's tree on timeout", async () => {
        const pidFile = host.resolvePath("timeout.pid");
        const started = Date.now();
        const error = await host.runCommand(`sleep 300 & echo $! > ${shellQuote(pidFile)}; wait`, { timeoutMs: 500 }).catch((e: unknown) => e);
        expect(OptioTimeoutError.isInstance(error)).toBe(true);
        expect(Date.now() - started).toBeLessThan(20_000);
        const pid = Number((await host.readFile(pidFile)).toString().trim());
        expect(await livePids(host, [pid])).toEqual([]);
      });

      it("kills the command's tree on abort", async () => {
        const pidFile = host.resolvePath("abort.pid");
        await host.remove(pidFile);
        const controller = new AbortController();
        const running = host.runCommand(`sleep 300 & echo $! > ${shellQuote(pidFile)}; wait`, { signal: controller.signal }).catch((e: unknown) => e);
        const pid = await waitFor("the pid file", async () => {
          const text = await host.readFile(pidFile).then((b) => b.toString().trim(), () => "");
          return text ? Number(text) : undefined;
        });
        controller.abort();
        expect(OptioAbortError.isInstance(await running)).toBe(true);
        expect(await livePids(host, [pid])).toEqual([]);
        await expect(host.runCommand("true", { signal: controller.signal })).rejects.toMatchObject({ code: "aborted" });
      });

      it("runChecked throws HostCommandError with the exit code and stderr tail", async () => {
        const error = await host.runChecked("echo first >&2; echo oops >&2; exit 3").catch((e: unknown) => e);
        expect(HostCommandError.isInstance(error)).toBe(true);
        const e = error as HostCommandError;
        expect(e.exitCode).toBe(3);
        expect(e.stderrTail).toContain("oops");
        expect(e.command).toContain("exit 3");
        expect((await host.runChecked("echo fine")).stdout).toBe("fine\n");
      });

      it("spawns with stderr merged by default and separate on request", async () => {
        const merged = await host.spawn("echo out; echo err >&2");
        expect((await collect(merged.stdout)).toString()).toBe("out\nerr\n");
        expect((await collect(merged.stderr)).length).toBe(0);
        expect(await merged.exited).toEqual({ code: 0, signal: null });
        expect(merged.stdin).toBeNull();

        const separate = await host.spawn("echo out; echo err >&2; exit 4", { stderr: "separate" });
        const [out, err] = await Promise.all([collect(separate.stdout), collect(separate.stderr)]);
        expect([out.toString(), err.toString()]).toEqual(["out\n", "err\n"]);
        expect((await separate.exited).code).toBe(4);
      });

      it("gives a spawned process stdin when asked, and EOF when it is ended", async () => {
        const handle = await host.spawn("cat; echo closed", { stdin: true, env: { X: "1" } });
        handle.stdin!.write("hello\n");
        handle.stdin!.end();
        expect((await collect(handle.stdout)).toString()).toBe("hello\nclosed\n");
        expect((await handle.exited).code).toBe(0);
      });

      it("carries a 200 KB line through process output", async () => {
        const handle = await host.spawn("head -c 204800 /dev/zero | tr '\\000' a; echo; echo next");
        const lines = await readLines(handle, 2);
        expect(lines[0]).toBe("a".repeat(204_800));
        expect(lines[1]).toBe("next");
        await handle.exited;
      });

      it("terminates a process with its children and grandchildren", async () => {
        const script = [
          "sleep 300 & echo $!",
          "( sleep 300 & echo $!; sleep 300 ) &",
          "( trap '' TERM; sh -c 'sleep 300 & echo $!; wait' ) &",
          "sh -c 'sleep 300' & echo $!",
          "wait",
        ].join("\n");
        const handle = await host.spawn(script);
        const pids = (await readLines(handle, 4)).map(Number);
        expect(pids.every((p) => p > 1)).toBe(true);
        expect((await livePids(host, [handle.pid, ...pids])).length).toBe(5);
        await host.terminate(handle, { graceMs: 500 });
        expect(await livePids(host, [handle.pid, ...pids])).toEqual([]);
        await withTimeout("exit", handle.exited);
      });

      it("killTree ends any pid's tree", async () => {
        const handle = await host.spawn("sleep 300 & echo $!; wait");
        const [child] = (await readLines(handle, 1)).map(Number);
        await host.killTree(handle.pid, { graceMs: 200 });
        expect(await livePids(host, [handle.pid, child!])).toEqual([]);
      });
    });

    describe("tailFile", () => {
      it("yields from line 1, follows appends and holds a partial line until its newline", async () => {
        await host.writeText("tail/log.txt", "one\ntwo\n");
        const controller = new AbortController();
        const it = host.tailFile("tail/log.txt", { signal: controller.signal })[Symbol.asyncIterator]();
        expect((await withTimeout("line 1", it.next())).value).toBe("one");
        expect((await withTimeout("line 2", it.next())).value).toBe("two");
        await host.runChecked("printf 'thr' >> tail/log.txt");
        const pending = it.next();
        await host.runChecked("printf 'ee\\nfour\\n' >> tail/log.txt");
        expect((await withTimeout("the completed line", pending)).value).toBe("three");
        expect((await withTimeout("line 4", it.next())).value).toBe("four");
        const end = it.next();
        controller.abort();
        expect(await withTimeout("the end after abort", end)).toEqual({ done: true, value: undefined });
      });

      it("waits for a file that does not exist yet", async () => {
        const controller = new AbortController();
        const it = host.tailFile("tail/later.txt", { signal: controller.signal })[Symbol.asyncIterator]();
        const first = it.next();
        await host.runChecked("mkdir -p tail && printf 'born\\n' > tail/later.txt");
        expect((await withTimeout("the first line", first)).value).toBe("born");
        controller.abort();
        expect((await withTimeout("the end", it.next())).done).toBe(true);
      });

      it("yields a 10 MiB line intact", async () => {
        const big = "L".repeat(10 * 1024 * 1024);
        await host.writeText("tail/big.txt", `${big}\nafter\n`);
        const controller = new AbortController();
        const it = host.tailFile("tail/big.txt", { signal: controller.signal })[Symbol.asyncIterator]();
        const first = (await withTimeout("the big line", it.next(), 30_000)).value as string;
        expect(first.length).toBe(big.length);
        expect(first === big).toBe(true);
        expect((await withTimeout("the next line", it.next())).value).toBe("after");
        controller.abort();
        expect((await withTimeout("the end", it.next())).done).toBe(true);
      });

      it("cuts a 50 MB line without holding it: reported once, the lines around it delivered", async () => {
        await host.runChecked("mkdir -p tail && { echo before; head -c 52428800 /dev/zero | tr '\\0' x; echo; echo after; } > tail/huge.txt");
        const controller = new AbortController();
        const cut: string[] = [];
        const lines: string[] = [];
        for await (const batch of host.tailLines("tail/huge.txt", { signal: controller.signal, maxLineBytes: 4096, onLongLine: (head) => cut.push(head) })) {
          lines.push(...batch);
          if (lines.includes("after")) break;
        }
        expect(lines).toEqual(["before", "after"]);
        expect(cut).toEqual(["x".repeat(200)]);
      });

      it("refuses a symbolic link to /dev/zero in the file's place", async () => {
        await host.runChecked("mkdir -p tail && ln -sfn /dev/zero tail/zero.log");
        const lines: string[] = [];
        const error = await withTimeout(
          "the refusal",
          (async () => {
            for await (const line of host.tailFile("tail/zero.log")) lines.push(line);
          })().catch((e: unknown) => e),
        );
        expect(UnsafeFileError.isInstance(error)).toBe(true);
        expect(String((error as Error).message)).toMatch(/symbolic link/);
        expect(lines).toEqual([]);
      });

      it("refuses a FIFO without waiting for a writer", async () => {
        await host.runChecked("mkdir -p tail && rm -f tail/fifo.log && mkfifo tail/fifo.log");
        const error = await withTimeout(
          "the refusal",
          (async () => {
            for await (const line of host.tailFile("tail/fifo.log")) throw new Error(`read ${line}`);
          })().catch((e: unknown) => e),
        );
        expect(UnsafeFileError.isInstance(error)).toBe(true);
        expect(String((error as Error).message)).toMatch(/not a regular file/);
      });

      it("ends with UnsafeFileError when the followed file is replaced by a link", async () => {
        await host.writeText("tail/swap.log", "one\n");
        const it = host.tailFile("tail/swap.log")[Symbol.asyncIterator]();
        expect((await withTimeout("line 1", it.next())).value).toBe("one");
        const next = it.next().catch((e: unknown) => e);
        await host.runChecked("ln -sfn /dev/zero tail/swap.log.new && mv -T tail/swap.log.new tail/swap.log");
        const error = await withTimeout("the refusal", next);
        expect(UnsafeFileError.isInstance(error)).toBe(true);
      });
    });

    describe("archives", () => {
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
        return archiveEntries(await collect(host.archiveWorkdir({ ...options, include: (options?.include ?? ["arch"]) })));
      }

      it("applies the default excludes to every segment and to *.pyc", async () => {
        const names = [...(await archiveOf()).keys()];
        expect(names).toContain("arch/src/pkg/main.py");
        expect(names).toContain("arch/empty/inner");
        for (const gone of ["arch/.git", "arch/node_modules", "arch/src/node_modules", "arch/src/__pycache__", "arch/top.pyc", "arch/src/pkg/main.pyc"]) {
          expect(names.filter((n) => n === gone || n.startsWith(`${gone}/`)), gone).toEqual([]);
        }
      });

      it("keeps everything with an explicit empty list and does not merge a custom list with the defaults", async () => {
        const all = [...(await archiveOf({ exclude: [] })).keys()];
        for (const kept of ["arch/.git/HEAD", "arch/node_modules/m/i.js", "arch/src/pkg/main.pyc", "arch/top.pyc"]) expect(all).toContain(kept);
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
        expect((await host.runChecked("readlink arch/link-to-main arch/src/dirlink")).stdout).toBe("src/pkg/main.py\npkg\n");
        expect((await host.readFile("arch/src/dirlink/main.py")).toString()).toBe("print(1)\n");
        expect(await host.stat("arch/.git")).toBeNull();
      });

      it("round-trips through files, which stay open, reading from the file's start", async () => {
        const file = path.join(scratch, `archive-${randomBytes(4).toString("hex")}.tar.gz`);
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

      const outsideName = `optio-slip-${randomBytes(4).toString("hex")}`;
      type Refusal = "path_escape" | "archive_invalid";
      const hostile: Array<[string, () => Promise<Buffer>, Refusal | Refusal[], string[]]> = [
        ["a ../ entry", () => tarGz([{ name: "ok.txt", body: "ok" }, { name: `../${outsideName}`, body: "x" }]), "path_escape", [`../${outsideName}`]],
        ["an inner .. entry", () => tarGz([{ name: "a/", type: "directory" }, { name: `a/../../${outsideName}`, body: "x" }]), "path_escape", [`../${outsideName}`]],
        ["an absolute entry", () => tarGz([{ name: `/tmp/${outsideName}`, body: "x" }]), "path_escape", [`/tmp/${outsideName}`]],
        ["a symlink to /etc", () => tarGz([{ name: "etc", type: "symlink", linkname: "/etc" }, { name: `etc/${outsideName}`, body: "x" }]), "path_escape", [`/etc/${outsideName}`, "etc"]],
        ["a symlink to ..", () => tarGz([{ name: "up", type: "symlink", linkname: ".." }, { name: `up/${outsideName}`, body: "x" }]), "path_escape", [`../${outsideName}`, "up"]],
        // tar names the outside target on stderr while its listing shows a hard link: either refusal may come first.
        ["a hardlink to outside", () => tarGz([{ name: "hard", type: "link", linkname: `../../${outsideName}` }]), ["path_escape", "archive_invalid"], ["hard"]],
        ["a hardlink inside", () => tarGz([{ name: "f", body: "x" }, { name: "h", type: "link", linkname: "f" }]), "archive_invalid", ["f", "h"]],
        ["a write through an earlier symlink", () => tarGz([{ name: "sub/", type: "directory" }, { name: "via", type: "symlink", linkname: "sub" }, { name: `via/${outsideName}`, body: "x" }]), "path_escape", [`sub/${outsideName}`, "via"]],
        ["a directory replacing an earlier symlink", () => tarGz([{ name: "s", type: "symlink", linkname: "sub" }, { name: "s/", type: "directory" }]), "path_escape", ["s"]],
        ["a FIFO", () => tarGz([{ name: "p", type: "fifo" }]), "archive_invalid", ["p"]],
        ["a device", () => tarGz([{ name: "dev", type: "character-device" }]), "archive_invalid", ["dev"]],
        ["a truncated gzip", () => tarGz([{ name: "big.txt", body: "z".repeat(200_000) }, { name: "after.txt", body: "a" }], 40), "archive_invalid", ["after.txt", "big.txt"]],
        ["bytes that are not gzip", async () => Buffer.from("not a gzip stream at all"), "archive_invalid", []],
      ];
      async function restoreFromFile(bytes: Buffer, options: RestoreOptions): Promise<void> {
        const file = path.join(scratch, `hostile-${randomBytes(4).toString("hex")}.tar.gz`);
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
        await host.runChecked("find . -mindepth 1 -delete && mkdir -p keep/sub && printf kept > keep/sub/kept.txt && ln -s sub keep/link");
        const before = (await host.runChecked("find . | sort")).stdout;
        return {
          intact: async () => {
            expect((await host.runChecked("find . | sort")).stdout).toBe(before);
            expect((await host.readFile("keep/link/kept.txt")).toString()).toBe("kept");
            expect((await host.runChecked(`ls -A ${shellQuote(host.taskDir)}`)).stdout.split("\n").filter((n) => n.startsWith("."))).toEqual([]);
          },
        };
      }

      it("stops an archive over maxEntries or maxBytes with RestoreLimitError, keeping the workdir", async () => {
        const many = await tarGz([{ name: "a", body: "1" }, { name: "b", body: "2" }, { name: "c", body: "3" }]);
        const big = await tarGz([{ name: "small", body: "x" }, { name: "bomb", body: "z".repeat(100_000) }]);
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
          it.each(hostile)("refuses %s with a typed error, writes nothing outside and leaves the workdir as it was", async (_what, build, code, absent) => {
            const { intact } = await knownWorkdir();
            const error = await restore(await build(), { clear }).catch((e: unknown) => e);
            expect(PathEscapeError.isInstance(error) || ArchiveError.isInstance(error), String(error)).toBe(true);
            expect([code].flat(), String(error)).toContain((error as { code: string }).code);
            for (const p of absent) expect(await host.stat(p), p).toBeNull();
            await intact();
          });

          it("refuses a chain of links that leaves the workdir only on disk, leaving the workdir as it was", async () => {
            const { intact } = await knownWorkdir();
            // Each link is listed before the one it resolves through, so no check of the listing alone sees the escape.
            const chain = await tarGz([
              { name: "w", type: "symlink", linkname: "v/.." },
              { name: "v", type: "symlink", linkname: "u/.." },
              { name: "u", type: "symlink", linkname: "x/.." },
              { name: "x", type: "symlink", linkname: "." },
            ]);
            const error = await restore(chain, { clear }).catch((e: unknown) => e);
            expect(PathEscapeError.isInstance(error), String(error)).toBe(true);
            await intact();
          });

          it("refuses an overlay written through the chain, writing nothing outside", async () => {
            const { intact } = await knownWorkdir();
            const chain = await tarGz([
              { name: "w", type: "symlink", linkname: "v/.." },
              { name: "v", type: "symlink", linkname: "u/.." },
              { name: "u", type: "symlink", linkname: "x/.." },
              { name: "x", type: "symlink", linkname: "." },
            ]);
            const overlay = { archive: await tarGz([{ name: `w/${outsideName}`, body: "x" }]) };
            const error = await restore(chain, { clear, overlay }).catch((e: unknown) => e);
            expect(PathEscapeError.isInstance(error), String(error)).toBe(true);
            expect(await host.stat(`${host.taskDir}/${outsideName}`)).toBeNull();
            await intact();
          });

          it("refuses a tree that leaves the workdir only once the overlay replaced a path", async () => {
            const { intact } = await knownWorkdir();
            // Alone, `a` resolves through `b` to x/y/../.. (the root); once the overlay makes `b` a directory, to `..`.
            const base = await tarGz([{ name: "x/y/", type: "directory" }, { name: "b", type: "symlink", linkname: "x/y" }, { name: "a", type: "symlink", linkname: "b/../.." }]);
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
          const base = await tarGz([{ name: "home/.agent/old.txt", body: "stale" }, { name: "src/main.txt", body: "main" }]);
          const overlay = { archive: await tarGz([{ name: "home/.agent/new.txt", body: "fresh" }]), replaces: ["home/.agent"] };
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
            const error = await restore(await tarGz([{ name: `way-out/${outsideName}`, body: "x" }]), { clear: false }).catch((e: unknown) => e);
            expect(PathEscapeError.isInstance(error)).toBe(true);
            expect(await host.stat(`${host.taskDir}/${outsideName}`)).toBeNull();
          } finally {
            await host.remove("way-out");
          }
        });
      });
    });

    describe("tunnels and terminals", () => {
      it("opens a tunnel to a host port", async () => {
        const tunnel = await host.openTunnel(1);
        expect(Number.isInteger(tunnel.port)).toBe(true);
        await tunnel.close();
      });

      it("runs a PTY that echoes input, resizes and closes idempotently", async () => {
        const pty = await host.openPty("printf 'ready\\n'; read line; printf 'got:%s\\n' \"$line\"; read again; stty size; read last", { cols: 80, rows: 24, env: { OPTIO_PTY: "1" } });
        let output = "";
        const exits: unknown[] = [];
        pty.onData((d) => {
          output += d;
        });
        pty.onExit((e) => exits.push(e));
        await waitFor("ready", async () => output.includes("ready"));
        pty.write("hello\r");
        await waitFor("the echoed line", async () => output.includes("got:hello"));
        pty.resize(100, 40);
        pty.write("\r");
        await waitFor("the new size", async () => output.includes("40 100"));
        pty.pause();
        pty.resume();
        pty.close();
        pty.close();
        await waitFor("the PTY to exit", async () => exits.length > 0);
      });

      it("runs a PTY readied by preparePty at its own size, echoing and cooking input as any PTY", async () => {
        host.preparePty();
        const pty = await host.openPty("printf 'ready\\n'; stty size; read line; printf 'got:%s\\n' \"$line\"", { cols: 100, rows: 30 });
        let output = "";
        pty.onData((d) => {
          output += d;
        });
        const exited = new Promise((resolve) => pty.onExit(resolve));
        await waitFor("the size", async () => output.includes("30 100"));
        pty.write("typed\r");
        await waitFor("the echoed line", async () => output.includes("typed") && output.includes("got:typed"));
        expect(output.split("typed").length - 1).toBe(2);
        await exited;
      });
    });
  });
}
