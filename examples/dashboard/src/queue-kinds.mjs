// The task kinds of the dashboard's queue mode, loaded by the dashboard (to check a payload before it is queued)
// and by every worker (`optio worker --kinds examples/dashboard/src/queue-kinds.mjs`): one per agent, named by
// the agent's id. Only the payload travels; how to reach a model comes from each worker's own environment.
import { createAgentTask } from "@optio/agents";
import { claudeCode } from "@optio/claudecode";
import { defineTaskKind } from "@optio/queue-bullmq";
import * as z from "zod/mini";
import { AGENT_CONFIG, ASKING, UNATTENDED, modelAccess } from "./agent-settings.mjs";
import { deliverableReport } from "./deliverable-report.mjs";

const payload = z.object({
  /** What the agent is asked to do. */
  instructions: z.string(),
  /** The agent asks before it runs a command or edits a file. */
  ask: z.optional(z.boolean()),
  /** The dashboard's origin, allowed to embed the agent's terminal. */
  origin: z.string().check(z.regex(/^https?:\/\//, "must be an http(s) origin")),
});

function agentKind(adapter) {
  const kind = defineTaskKind(adapter.id, payload, ({ instructions, ask, origin }, { processId, workerId }) => {
    const model = modelAccess(process.env);
    return createAgentTask(adapter, {
      processId,
      name: `${adapter.displayName} ${processId} on ${workerId}`,
      description: instructions.split("\n")[0].slice(0, 120) || `an interactive ${adapter.displayName} session`,
      config: {
        ...AGENT_CONFIG[adapter.id],
        ...(model ? { ...model, ...(ask ? ASKING : UNATTENDED)[adapter.id] } : { autoStart: false }),
        ...(process.env.OPTIO_DASHBOARD_AGENT_DIR && { installDir: process.env.OPTIO_DASHBOARD_AGENT_DIR }),
        consumerInstructions: instructions,
        terminal: { allowedOrigins: [origin] },
        // Not on this worker's disk, which the dashboard cannot read: into the shared store, announced by a report.
        onDeliverable: async (ctx, path, text) =>
          ctx.report("info", deliverableReport(await ctx.store.putBlob(Buffer.from(text, "utf8")), path)),
      },
    });
  });
  // The dashboard answers an agent's permission prompt by typing these keys into it on its worker.
  return Object.assign(kind, { displayName: adapter.displayName, permissionKeys: adapter.permissionKeys });
}

async function optionalOpenCode() {
  try {
    const { openCode } = await import("@optio/opencode");
    return openCode ? [agentKind(openCode)] : [];
  } catch {
    // @optio/opencode is optional, as in the embedded mode.
    return [];
  }
}

export const kinds = [agentKind(claudeCode), ...(await optionalOpenCode())];
