import { existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { SSHConfigInput } from "@optio/host";
import { beforeAll, describe, expect, it } from "vitest";
import { createAgentTask } from "../task/agent-task.js";
import { runTask } from "../task/run-task.js";
import type { TaskOutcome } from "../spec/task-context.js";
import { createScriptedAdapter } from "../testing/scripted-adapter.js";
import { processesOf } from "./test-fixtures/processes-of.js";
import { useScriptedHosts } from "./test-fixtures/scripted-hosts.js";

/**
 * Cancels a scripted task at evenly spread instants of its start sequence
 * (after `runTask`, and after its terminal is published) and checks that
 * every cancel ends the task `cancelled` in time with nothing of it left.
 */

/** Instants are 10 ms apart over the measured start sequence; a longer one (over SSH) spreads this many over it. */
const MAX_POINTS = 30;
/** How long a cancel may take to settle the outcome. */
const CANCEL_BOUND_MS = { local: 5_000, ssh: 10_000 };

const hosts = useScriptedHosts("optio-cancel-sweep-");

type Kind = "local" | "ssh";

function slowTask(kind: Kind, processId: string) {
  const ssh: SSHConfigInput | undefined = kind === "ssh" ? hosts.sshd.sshConfig() : undefined;
  return createAgentTask(createScriptedAdapter(), {
    processId,
    name: "sweep",
    config: { supportsResume: false, env: { OPTIO_SCENARIO: "slow" }, ...(ssh ? { ssh } : {}) },
  });
}

interface Timings {
  /** runTask → the widget event. */
  widgetMs: number;
  /** runTask → the agent's first tick in optio.log. */
  tickMs: number;
}

/** One uncancelled start, measured, to spread the sweep over the real start sequence. */
async function measureStart(kind: Kind): Promise<Timings> {
  const started = performance.now();
  let widgetMs = 0;
  let ticked!: () => void;
  const tick = new Promise<void>((resolve) => (ticked = resolve));
  const run = runTask(slowTask(kind, `sweep-${kind}-measure`), {
    store: hosts.store,
    onEvent: (event) => {
      if (event.type === "widget" && widgetMs === 0) widgetMs = performance.now() - started;
      if (event.type === "progress" && event.message?.startsWith("tick ")) ticked();
    },
  });
  await Promise.race([tick, run.outcome]);
  const tickMs = performance.now() - started;
  run.cancel();
  expect(await run.outcome).toEqual({ status: "cancelled" });
  return { widgetMs, tickMs };
}

interface PointResult {
  outcome: TaskOutcome | "timed out";
  cancelToOutcomeMs: number;
  left: string[];
}

/** Starts a task, cancels it `delayMs` after runTask (or after its widget event) and reports how it ended. */
async function cancelAt(
  kind: Kind,
  processId: string,
  anchor: "start" | "widget",
  delayMs: number,
): Promise<PointResult> {
  let cancelledAt = 0;
  const cancelLater = (cancel: () => void) => {
    const fire = () => {
      cancelledAt = performance.now();
      cancel();
    };
    if (delayMs === 0) fire();
    else setTimeout(fire, delayMs);
  };
  let widgetSeen = false;
  const run = runTask(slowTask(kind, processId), {
    store: hosts.store,
    onEvent: (event) => {
      if (anchor === "widget" && event.type === "widget" && !widgetSeen) {
        widgetSeen = true;
        cancelLater(() => run.cancel());
      }
    },
  });
  if (anchor === "start") cancelLater(() => run.cancel());
  // Bounded from the cancel, which a widget-anchored point only fires once the widget came.
  const outcome = await new Promise<TaskOutcome | "timed out">((resolve) => {
    void run.outcome.then(resolve);
    const check = setInterval(() => {
      if (cancelledAt > 0 && performance.now() - cancelledAt > CANCEL_BOUND_MS[kind]) resolve("timed out");
    }, 50);
    void run.outcome.finally(() => clearInterval(check));
    void sleep(CANCEL_BOUND_MS[kind] + 60_000).then(() => {
      clearInterval(check);
      resolve("timed out");
    });
  });
  const cancelToOutcomeMs = performance.now() - cancelledAt;
  if (outcome === "timed out") run.cancel();
  const taskDir = join(kind === "local" ? hosts.localRoot() : hosts.remoteRoot(), processId);
  // Teardown stopped the tree before the outcome; an SSH session's shell may take a moment to see its channel close.
  const deadline = performance.now() + CANCEL_BOUND_MS[kind];
  // The task dir itself must be gone too: a cancel during connect once left it behind.
  const leftOf = () => [...processesOf(taskDir), ...(existsSync(taskDir) ? [`the task dir ${taskDir}`] : [])];
  let left = leftOf();
  while (left.length > 0 && performance.now() < deadline) {
    await sleep(50);
    left = leftOf();
  }
  return { outcome, cancelToOutcomeMs, left };
}

/**
 * 0, 10, 20 … ms up to `spanMs` (and one step past it): coarser steps past
 * MAX_POINTS, finer ones when a fast machine's span holds fewer than
 * `minPoints` of them, so the sweep never shrinks with the machine's speed.
 */
function delays(spanMs: number, minPoints: number): number[] {
  let step = Math.max(10, Math.ceil(spanMs / (MAX_POINTS - 1) / 10) * 10);
  if (Math.ceil(spanMs / step) + 1 < minPoints) step = Math.max(1, Math.floor(spanMs / (minPoints - 1)));
  return Array.from(
    { length: Math.max(minPoints, Math.min(MAX_POINTS, Math.ceil(spanMs / step) + 1)) },
    (_, i) => i * step,
  );
}

describe.each(["local", "ssh"] as const)("a cancel at any instant of the start (%s host)", (kind) => {
  let timings: Timings;

  beforeAll(async () => {
    timings = await measureStart(kind);
  }, 120_000);

  it.each(["start", "widget"] as const)(
    "ends cancelled, in time, with no process left, when it comes after the %s",
    { timeout: 600_000 },
    async (anchor) => {
      const span = anchor === "start" ? timings.tickMs : timings.tickMs - timings.widgetMs;
      const results: Array<{ delayMs: number } & PointResult> = [];
      const minPoints = anchor === "start" ? 10 : 5;
      for (const delayMs of delays(span, minPoints)) {
        const result = await cancelAt(kind, `sweep-${kind}-${anchor}-${delayMs}`, anchor, delayMs);
        results.push({ delayMs, ...result });
      }
      expect(results.length).toBeGreaterThanOrEqual(minPoints);
      // The sweep reaches past the whole span, however fast the machine started the task.
      expect(results.at(-1)?.delayMs).toBeGreaterThanOrEqual(span);
      console.info(
        `${kind}, after the ${anchor} (start ${Math.round(timings.tickMs)} ms, widget at ${Math.round(timings.widgetMs)} ms): ` +
          results.map((r) => `${r.delayMs} ms → ${Math.round(r.cancelToOutcomeMs)} ms`).join(", "),
      );
      expect(results.map((r) => ({ delayMs: r.delayMs, outcome: r.outcome, left: r.left }))).toEqual(
        results.map((r) => ({ delayMs: r.delayMs, outcome: { status: "cancelled" }, left: [] })),
      );
    },
  );
});

describe.each(["local", "ssh"] as const)("a cancel while connecting (%s host)", (kind) => {
  it("ends cancelled and leaves no task dir", { timeout: 120_000 }, async () => {
    const processId = `sweep-${kind}-connecting`;
    const run = runTask(slowTask(kind, processId), {
      store: hosts.store,
      onEvent: (event) => {
        // Reported just before the host connects (and creates the task dir): the cancel lands while connect runs.
        if (event.type === "progress" && event.message?.startsWith("Connecting")) run.cancel();
      },
    });
    expect(await run.outcome).toEqual({ status: "cancelled" });
    expect(existsSync(join(kind === "local" ? hosts.localRoot() : hosts.remoteRoot(), processId))).toBe(false);
  });
});
