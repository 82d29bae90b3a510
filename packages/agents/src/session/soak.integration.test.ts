import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * A reduced run of the soak (`pnpm soak`), so a leak fails the build. The
 * soak runs the built packages (dist/), which `turbo run test` builds first,
 * in a process of its own: file descriptors and memory are counted for that
 * process alone, with the collector exposed.
 */
const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
const soakScript = `${repoRoot}bench/soak.mjs`;
const CYCLES = 20;
const LINES = 100_000;
const SOAK_BOUND_MS = 540_000;
/** Memory after the run compared with after the warm-up (after a forced GC), and the peak during the flood. */
const RSS_GROWTH_BOUND_MB = 40;
const FLOOD_RSS_GROWTH_BOUND_MB = 150;

interface SoakFigures {
  soak_cycles: number;
  soak_orphans: number;
  soak_leaked_fds: number;
  soak_rss_growth_mb: number;
  soak_lines: number;
  soak_lines_lost: number;
  soak_lines_out_of_order: number;
  soak_lines_rss_growth_mb: number;
  soak_failed_cycles: number;
}

function runSoak(): Promise<{ code: number | null; figures: SoakFigures | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--expose-gc", soakScript, "--cycles", String(CYCLES), "--lines", String(LINES)],
      {
        cwd: repoRoot,
        stdio: ["ignore", "pipe", "pipe"],
        timeout: SOAK_BOUND_MS,
        killSignal: "SIGKILL",
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) => {
      const last = stdout.trim().split("\n").pop() ?? "";
      let figures: SoakFigures | null = null;
      try {
        figures = JSON.parse(last) as SoakFigures;
      } catch {
        figures = null;
      }
      resolve({ code, figures, stderr });
    });
  });
}

describe("soak", () => {
  it(
    `leaves nothing behind after ${CYCLES} start → cancel cycles locally and over SSH, and loses none of ${LINES} lines`,
    async () => {
      expect(existsSync(`${repoRoot}packages/agents/dist/index.js`), "build the packages first (pnpm build)").toBe(
        true,
      );
      const { code, figures, stderr } = await runSoak();
      expect(figures, stderr).not.toBeNull();
      const f = figures!;
      expect(f.soak_cycles).toBe(CYCLES);
      expect(f.soak_failed_cycles, stderr).toBe(0);
      expect(f.soak_orphans, stderr).toBe(0);
      expect(f.soak_leaked_fds, stderr).toBe(0);
      expect(f.soak_lines).toBe(LINES);
      expect(f.soak_lines_lost, stderr).toBe(0);
      expect(f.soak_lines_out_of_order, stderr).toBe(0);
      expect(f.soak_rss_growth_mb).toBeLessThanOrEqual(RSS_GROWTH_BOUND_MB);
      expect(f.soak_lines_rss_growth_mb).toBeLessThanOrEqual(FLOOD_RSS_GROWTH_BOUND_MB);
      expect(code, stderr).toBe(0);
    },
    SOAK_BOUND_MS + 30_000,
  );
});
