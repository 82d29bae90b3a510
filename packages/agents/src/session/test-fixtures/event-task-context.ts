import { join } from "node:path";
import { FileStateStore } from "../../store/file-state-store.js";
import type { TaskContext, TaskEvent } from "../../spec/task-context.js";

/** A task context that hands attention, agent-state, usage and report events to `onEvent`, with a store under `root`. */
export function eventTaskContext(root: string, onEvent: (event: TaskEvent) => void): TaskContext {
  return {
    processId: "p",
    signal: new AbortController().signal,
    resumeRequested: false,
    store: new FileStateStore({ dir: join(root, "store") }),
    reportProgress: () => {},
    setWidget: () => {},
    requestBrowserOpen: () => {},
    needAttention: (reason) => onEvent({ type: "attention", reason }),
    reportAgentState: (change) => onEvent({ type: "agent-state", ...change }),
    reportUsage: (usage) => onEvent({ type: "usage", ...usage }),
    domainMessage: () => {},
    markHasSavedState: () => {},
    report: (level, message) => onEvent({ type: "report", level, message }),
  };
}
