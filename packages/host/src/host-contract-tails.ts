import { describe, expect, it } from "vitest";
import { UnsafeFileError } from "./errors.js";
import { type ContractScope, scopedHost } from "./host-contract-helpers.js";
import { withTimeout } from "./with-timeout.js";

/** Tails of growing and replaced files. */
export function tailsContract(scope: ContractScope): void {
  describe("tailFile", () => {
    const host = scopedHost(scope);

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
      await host.runChecked(
        "mkdir -p tail && { echo before; head -c 52428800 /dev/zero | tr '\\0' x; echo; echo after; } > tail/huge.txt",
      );
      const controller = new AbortController();
      const cut: string[] = [];
      const lines: string[] = [];
      for await (const batch of host.tailLines("tail/huge.txt", {
        signal: controller.signal,
        maxLineBytes: 4096,
        onLongLine: (head) => cut.push(head),
      })) {
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
}
