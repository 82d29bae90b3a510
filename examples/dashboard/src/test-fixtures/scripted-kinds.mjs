// The task kinds of the queue-mode test, loaded by the dashboard and by its workers: the dashboard's own kinds
// (claudecode runs the stand-in at $OPTIO_DASHBOARD_AGENT_DIR), and `scripted`, queue-bullmq's stand-in agent
// behind the dashboard's payload, its instructions the milliseconds the agent works, its files under
// $OPTIO_SCRIPTED_ROOT.
import { defineTaskKind } from "@optio/queue-bullmq";
import { scriptedTaskKind } from "@optio/queue-bullmq/testing";
import * as z from "zod/mini";
import { kinds as dashboardKinds } from "../queue-kinds.mjs";

const scripted = scriptedTaskKind(process.env.OPTIO_SCRIPTED_ROOT);
const payload = z.object({
  instructions: z.string().check(z.regex(/^\d+$/, "must be the milliseconds the agent works")),
});

export const kinds = [
  ...dashboardKinds,
  defineTaskKind("scripted", payload, ({ instructions }, context) =>
    scripted.create({ ms: Number(instructions) }, context),
  ),
];
