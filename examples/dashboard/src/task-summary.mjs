// What the page sees of a task: its record without the live handles, plus what it may do now.

/** The page's view of `task`; `adapters` maps agent ids to the adapters this dashboard runs. */
export function taskSummary(task, adapters) {
  return {
    processId: task.processId,
    agent: task.agent,
    agentName: adapters.get(task.agent)?.displayName ?? task.agent,
    instructions: task.instructions,
    ssh: task.ssh,
    status: task.status,
    percent: task.percent,
    message: task.message,
    terminalUrl: task.terminalUrl,
    deliverables: task.deliverables,
    reports: task.reports.slice(-5),
    savedState: task.savedState,
    startedAt: task.startedAt,
    outcome: task.outcome,
    ask: task.ask ?? false,
    agentState: task.agentState ?? null,
    attention: task.attention ?? null,
    canAnswer: Boolean(
      task.run && task.agentState?.state === "waiting-permission" && adapters.get(task.agent)?.permissionKeys,
    ),
    usage: task.usage ?? null,
  };
}
