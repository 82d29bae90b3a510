import { describe, expect, it } from "vitest";
import { TtydUnsupportedPlatformError } from "./ttyd-errors.js";
import { parseTtydPort, ttydAssetFor } from "./ttyd.js";

describe("parseTtydPort", () => {
  it.each([
    ["N: Listening on port: 33449", 33449],
    ["[2025/01/02 10:11:12:1234] N: Listening on port: 40001", 40001],
    ["Listening on port 7681", 7681],
    ["Listening on port:7682", 7682],
    ["[INFO] listening on http://127.0.0.1:7681/", 7681],
    ["listening on http://[::1]:9000/", 9000],
    ["listening on http://localhost:8080", 8080],
  ])("reads the port from %j", (line, port) => {
    expect(parseTtydPort(line)).toBe(port);
  });

  it.each([
    "N: ttyd 1.7.7-40e79c7 (libwebsockets 4.3.3-unknown)",
    "N: tty configuration:",
    "N:   start command: tmux attach",
    "N:   close signal: SIGHUP (1)",
    "N: interface: 127.0.0.1",
    "Listening on port: 0",
    "Listening on port: 70000",
    "",
  ])("ignores %j", (line) => {
    expect(parseTtydPort(line)).toBeNull();
  });
});

describe("ttydAssetFor", () => {
  it("maps the three Linux CPUs to their release assets", () => {
    expect(ttydAssetFor("Linux", "x86_64")).toBe("ttyd.x86_64");
    expect(ttydAssetFor("Linux", "aarch64")).toBe("ttyd.aarch64");
    expect(ttydAssetFor("Linux", "armv7l")).toBe("ttyd.armv7l");
  });

  it("refuses other systems and CPUs with a typed error", () => {
    expect(() => ttydAssetFor("Darwin", "arm64")).toThrow(TtydUnsupportedPlatformError);
    expect(() => ttydAssetFor("Linux", "riscv64")).toThrow(/riscv64/);
    expect(TtydUnsupportedPlatformError.isInstance(captured(() => ttydAssetFor("FreeBSD", "x86_64")))).toBe(true);
  });
});

function captured(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}
