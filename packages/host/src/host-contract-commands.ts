import { describe, expect, it } from "vitest";
import { HostCommandError, OptioAbortError, OptioTimeoutError } from "./errors.js";
import {
  collect,
  type ContractScope,
  livePids,
  readLines,
  waitFor,
  WEIRD,
  scopedHost,
} from "./host-contract-helpers.js";
import { shellQuote } from "./shell.js";
import { withTimeout } from "./with-timeout.js";

/** Commands, spawned processes and process trees. */
export function commandsContract(scope: ContractScope): void {
  describe("commands", () => {
    const host = scopedHost(scope);

    it("reports exit codes, stdout and stderr without throwing", async () => {
      expect(await host.runCommand("echo out; echo err >&2; exit 7")).toEqual({
        stdout: "out\n",
        stderr: "err\n",
        exitCode: 7,
      });
      expect((await host.runCommand("true")).exitCode).toBe(0);
    });

    it("passes env values and paths with spaces, quotes, $, backquotes and newlines intact", async () => {
      const env = await host.runCommand(`printf '%s' "$WEIRD"`, { env: { WEIRD: WEIRD } });
      expect(env.stdout).toBe(WEIRD);
      await host.writeText(`q/${WEIRD}/file.txt`, "inside");
      const dir = host.resolvePath(`q/${WEIRD}`);
      expect((await host.runChecked(`cat ${shellQuote(`${dir}/file.txt`)}`)).stdout).toBe("inside");
      expect((await host.runChecked(`printf '%s' "$PWD"`, { cwd: dir })).stdout).toBe(dir);
      expect((await host.runChecked(`printf '%s' ${shellQuote(WEIRD)}`)).stdout).toBe(WEIRD);
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
      const error = await host
        .runCommand(`sleep 300 & echo $! > ${shellQuote(pidFile)}; wait`, { timeoutMs: 500 })
        .catch((e: unknown) => e);
      expect(OptioTimeoutError.isInstance(error)).toBe(true);
      expect(Date.now() - started).toBeLessThan(20_000);
      const pid = Number((await host.readFile(pidFile)).toString().trim());
      expect(await livePids(host, [pid])).toEqual([]);
    });

    it("kills the command's tree on abort", async () => {
      const pidFile = host.resolvePath("abort.pid");
      await host.remove(pidFile);
      const controller = new AbortController();
      const running = host
        .runCommand(`sleep 300 & echo $! > ${shellQuote(pidFile)}; wait`, { signal: controller.signal })
        .catch((e: unknown) => e);
      const pid = await waitFor("the pid file", async () => {
        const text = await host.readFile(pidFile).then(
          (b) => b.toString().trim(),
          () => "",
        );
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
}
