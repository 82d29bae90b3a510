import type { Host } from "@optio/host";
import { UnsupportedPlatformError } from "./install-errors.js";

/** A host's OS, CPU architecture and C library, as install specs are keyed. */
export interface HostPlatform {
  os: "linux" | "darwin";
  arch: "x64" | "arm64";
  /** Null on darwin. */
  libc: "glibc" | "musl" | null;
}

const OS_NAMES: Record<string, HostPlatform["os"]> = { Linux: "linux", Darwin: "darwin" };
const ARCH_NAMES: Record<string, HostPlatform["arch"]> = {
  x86_64: "x64",
  amd64: "x64",
  aarch64: "arm64",
  arm64: "arm64",
};

// One round trip: uname twice, then musl evidence (ldd's banner, or the musl loader on disk).
const PROBE =
  "uname -s; uname -m; if { ldd --version 2>&1 || true; } | grep -qi musl || ls /lib/ld-musl-* >/dev/null 2>&1; then echo musl; else echo glibc; fi";

/** The host's OS, CPU and libc, in the names npm platform packages use. */
export async function detectHostPlatform(host: Host, options?: { signal?: AbortSignal }): Promise<HostPlatform> {
  const result = await host.runChecked(PROBE, { timeoutMs: 15_000, signal: options?.signal });
  return parsePlatformProbe(result.stdout);
}

/** Reads the probe's three lines: `uname -s`, `uname -m`, `musl` or `glibc`. */
export function parsePlatformProbe(stdout: string): HostPlatform {
  const [osName = "", machine = "", libcName = ""] = stdout
    .trim()
    .split(/\r?\n/)
    .map((l) => l.trim());
  const os = OS_NAMES[osName];
  if (!os)
    throw new UnsupportedPlatformError(
      `unsupported host OS ${JSON.stringify(osName)} (uname -s); supported: Linux, Darwin`,
    );
  const arch = ARCH_NAMES[machine];
  if (!arch) {
    throw new UnsupportedPlatformError(
      `unsupported host CPU ${JSON.stringify(machine)} (uname -m); supported: x86_64, aarch64/arm64`,
    );
  }
  return { os, arch, libc: os === "darwin" ? null : libcName === "musl" ? "musl" : "glibc" };
}
