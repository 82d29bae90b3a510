import { describe, expect, it } from "vitest";
import { parsePlatformProbe } from "./host-platform.js";
import { UnsupportedPlatformError } from "./install-errors.js";

describe("parsePlatformProbe", () => {
  it("maps uname names to npm platform names", () => {
    expect(parsePlatformProbe("Linux\nx86_64\nglibc\n")).toEqual({ os: "linux", arch: "x64", libc: "glibc" });
    expect(parsePlatformProbe("Linux\naarch64\nmusl\n")).toEqual({ os: "linux", arch: "arm64", libc: "musl" });
    expect(parsePlatformProbe("Darwin\narm64\nglibc\n")).toEqual({ os: "darwin", arch: "arm64", libc: null });
    expect(parsePlatformProbe("Darwin\nx86_64\nglibc\n")).toEqual({ os: "darwin", arch: "x64", libc: null });
  });

  it("names an unsupported OS or CPU in a typed error", () => {
    for (const [probe, found] of [
      ["FreeBSD\namd64\nglibc\n", '"FreeBSD"'],
      ["Linux\nriscv64\nglibc\n", '"riscv64"'],
      ["Linux\narmv7l\nglibc\n", '"armv7l"'],
    ] as const) {
      let error: unknown;
      try {
        parsePlatformProbe(probe);
      } catch (e) {
        error = e;
      }
      expect(UnsupportedPlatformError.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain(found);
    }
  });
});
