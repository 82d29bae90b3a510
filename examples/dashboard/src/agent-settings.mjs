// How the dashboard configures each agent, shared by its own runs and by the task kinds its queue workers load.
/** Per-agent settings: agents come from the npm registry (into the shared version cache), not a vendor script. */
export const AGENT_CONFIG = {
  claudecode: { installStrategies: ["npm-registry"] },
  opencode: { installStrategies: ["npm-registry"] },
};
/** Per agent: what lets it run its tool calls with nobody there to approve them. */
export const UNATTENDED = { claudecode: { permissionMode: "bypassPermissions" }, opencode: {} };
/** Per agent: what makes it ask before it runs a shell command or edits a file, for a task started with "ask first". */
export const ASKING = {
  claudecode: { permissionMode: "default" },
  opencode: { opencodeConfig: { permission: { bash: "ask", edit: "ask" } } },
};

/**
 * How the agents reach a model, from the dashboard's environment: an endpoint
 * (`$OPTIO_DASHBOARD_API_BASE_URL`) and/or a key (`$ANTHROPIC_API_KEY`) make a
 * task do its job by itself; with neither, the agent waits at its prompt for a
 * person to log in and type through the terminal.
 */
export function modelAccess(env) {
  const apiBaseUrl = env.OPTIO_DASHBOARD_API_BASE_URL;
  const key = env.ANTHROPIC_API_KEY;
  if (!apiBaseUrl && !key) return null;
  return { ...(apiBaseUrl && { apiBaseUrl }), ...(key && { env: { ANTHROPIC_API_KEY: key } }) };
}
