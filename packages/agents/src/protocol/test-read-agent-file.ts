import { FileTooLargeError, type Host, PathEscapeError, UnsafeFileError } from "@optio/host";
import { expect } from "vitest";
import { readAgentFile } from "./read-agent-file.js";

/** Settles `promise` or fails after `ms`: a read that blocks must fail the test, not hang it. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>(
      (_resolve, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not end within ${ms} ms`)), ms)),
    ),
  ]).finally(() => clearTimeout(timer));
}

/** readAgentFile's rules on `host`: what it reads, what it refuses and with which error, and that nothing blocks. */
export async function agentFileReadCases(host: Host): Promise<void> {
  await host.runChecked(
    [
      "rm -rf agent-files && mkdir -p agent-files/real",
      "printf '{\"a\":1}' > agent-files/real/ok.json",
      "head -c 4096 /dev/zero > agent-files/real/big.bin",
      "ln -s real agent-files/dirlink",
      "ln -s ok.json agent-files/real/filelink",
      "ln -s /dev/zero agent-files/real/zero",
      "mkfifo agent-files/real/fifo",
    ].join(" && "),
  );
  const read = (path: string, maxBytes?: number) =>
    within(
      30_000,
      `reading ${path}`,
      readAgentFile(host, path, { maxBytes }).catch((e: unknown) => e),
    );
  expect(((await read("agent-files/real/ok.json")) as Buffer).toString()).toBe('{"a":1}');
  expect(((await read(`${host.workdir}/agent-files/real/ok.json`)) as Buffer).toString()).toBe('{"a":1}');
  expect(await read("agent-files/real/missing.json")).toBeNull();
  expect(await read("agent-files/missing-dir/x.json")).toBeNull();
  for (const unsafe of [
    "agent-files/dirlink/ok.json",
    "agent-files/real/filelink",
    "agent-files/real/zero",
    "agent-files/real/fifo",
    "agent-files/real",
  ]) {
    const error = await read(unsafe);
    expect(UnsafeFileError.isInstance(error), `${unsafe}: ${String(error)}`).toBe(true);
  }
  const big = await read("agent-files/real/big.bin", 4095);
  expect(FileTooLargeError.isInstance(big), String(big)).toBe(true);
  expect(String((big as Error).message)).toMatch(/4096 bytes, over the limit of 4095/);
  expect(((await read("agent-files/real/big.bin", 4096)) as Buffer).length).toBe(4096);
  for (const outside of ["../outside.json", "/etc/passwd", ""])
    expect(PathEscapeError.isInstance(await read(outside)), outside).toBe(true);
}
