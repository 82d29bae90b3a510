import type { AgentAdapter } from "../spec/agent-adapter.js";
import type { AgentTaskConfig } from "../spec/config.js";
import { captureSnapshot, pruneSnapshots } from "../resume/snapshot.js";
import { captureSeed } from "../seeds/seeds.js";
import type { SnapshotEndState } from "../spec/state-store.js";
import type { TaskContext, TaskOutcome } from "../spec/task-context.js";
import { paneState, stopTmuxSession } from "../terminal/tmux.js";
import { saveOptions } from "./blob-options.js";
import type { SessionState } from "./session-state.js";

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Installers link agent binaries here on every start; links into a shared cache must not travel in a snapshot. */
const LINKED_BINARIES_DIR = "home/.local/bin";

/** How long a stopped agent gets to save its state before it is killed. */
const AGENT_STOP_GRACE_MS = 3000;

/** How long hooks may work on the host during teardown. */
const TEARDOWN_HOOK_BOUND_MS = 5 * 60_000;

function endStateOf(outcome: TaskOutcome): SnapshotEndState {
  return outcome.status === "done" ? "done" : outcome.status === "cancelled" ? "cancelled" : "failed";
}

/** Teardown: every step runs even when an earlier one failed; failures are reported, and returned for afterExecute's rule. */
export async function teardown<C extends AgentTaskConfig>(
  ctx: TaskContext,
  adapter: AgentAdapter<C>,
  state: SessionState<C>,
  outcome: TaskOutcome,
): Promise<TaskOutcome> {
  const { config, host } = state;
  state.operationSignal = AbortSignal.timeout(TEARDOWN_HOOK_BOUND_MS);
  const step = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (error) {
      ctx.report("error", `${what} failed: ${describe(error)}`);
    }
  };
  const savesSeed = state.launched && state.fresh && Boolean(config.onSeedSaved) && Boolean(adapter.seed);
  // The agent gets time to save its state (its transcript) only when a snapshot, a seed or afterExecute may
  // read it; otherwise it is killed at once rather than waited for through its shutdown.
  const graceMs = config.supportsResume || savesSeed || config.afterExecute ? AGENT_STOP_GRACE_MS : 0;
  // The tree must be gone before anything reads the workdir: a process still exiting writes mid-snapshot.
  // The terminal's viewers are tmux clients of their own, so they close meanwhile.
  // A cancel stops the agent at once; an outcome the agent reported leaves it a moment to record its last turn.
  // Looked up while the agent settles: its stop is one round trip shorter. A failed look fails the stop step.
  const pane = paneState(host, state.tmux);
  pane.catch(() => undefined);
  if (state.launched && outcome.status !== "cancelled") await state.usage.settle();
  await Promise.all([
    step("stopping the agent", () => stopTmuxSession(host, state.tmux, graceMs, pane)),
    step("closing the terminal", async () => state.terminal?.close()),
  ]);
  // Read once the agent has stopped: the records of its last turn are written by then.
  const usage = state.launched ? await state.usage.finish() : undefined;
  const counted: TaskOutcome = usage ? { ...outcome, usage } : outcome;
  await step("delivering the last deliverables", () => state.deliverables.drain());
  if (savesSeed && adapter.seed) {
    const manifest = adapter.seed;
    await step("saving the seed", async () => {
      const seed = await captureSeed({ ...saveOptions(ctx, adapter, state), sourceProcessId: ctx.processId, manifest });
      await config.onSeedSaved?.(seed.id);
    });
  }
  // A session that never launched has nothing worth resuming (and maybe no credentials planted).
  if (state.launched && config.supportsResume) {
    await step("saving the snapshot", async () => {
      ctx.reportProgress(null, "Saving a snapshot…");
      await captureSnapshot({
        ...saveOptions(ctx, adapter, state),
        processId: ctx.processId,
        endState: endStateOf(counted),
        resume: {
          ...adapter.resume,
          regenerablePaths: [...(adapter.resume.regenerablePaths ?? []), LINKED_BINARIES_DIR],
        },
        exclude: config.workdirExclude,
        onLinkLeftOut: (link) =>
          ctx.report(
            "warn",
            `left out of the snapshot: the link ${link.path} -> ${link.target} leads out of the workdir, which a restore refuses`,
          ),
      });
      ctx.markHasSavedState();
      // Otherwise the last progress line a dashboard shows would still say the snapshot is under way.
      ctx.reportProgress(null, "Snapshot saved");
      await pruneSnapshots(ctx.store, ctx.processId);
    });
  }
  let result = counted;
  if (config.afterExecute) {
    try {
      await config.afterExecute(state.hook);
    } catch (error) {
      if (counted.status === "done")
        result = {
          status: "failed",
          message: `afterExecute failed: ${describe(error)}`,
          error,
          ...(usage && { usage }),
        };
      else ctx.report("error", `afterExecute failed: ${describe(error)}`);
    }
  }
  await step("removing the task dir", () => host.remove(host.taskDir));
  await step("disconnecting", () => host.disconnect());
  return result;
}
