import { spawn } from "node:child_process";

/** Hands a URL to the desktop's opener (`open` on macOS, `xdg-open` elsewhere); resolves to an error message or null. */
export function openUrl(url: string, platform: NodeJS.Platform = process.platform): Promise<string | null> {
  const opener = platform === "darwin" ? "open" : "xdg-open";
  return new Promise((resolveOpen) => {
    const child = spawn(opener, [url], { detached: true, stdio: "ignore" });
    child.once("error", (error) => resolveOpen(`could not run ${opener}: ${error.message}`));
    child.once("spawn", () => {
      child.unref();
      resolveOpen(null);
    });
  });
}
