// The task kinds module of the real-opencode queue test: `opencode`, the real opencode (installed into
// $OPTIO_OPENCODE_INSTALL_DIR at $OPTIO_OPENCODE_VERSION) working against the scripted model a payload names, on this
// machine or on the worker's SSH host the payload names.
import { homedir } from "node:os";
import { join } from "node:path";
import { createOpenCodeTask } from "@optio/opencode";
import * as z from "zod/mini";
import { defineTaskKind } from "../../dist/index.js";

const payload = z.object({
  /** What the agent is asked to do. */
  instructions: z.string(),
  /** The scripted model's URL on 127.0.0.1. */
  apiBaseUrl: z.string(),
  /** The worker's SSH host (a name from its `hosts`) opencode runs on; this machine when absent. */
  host: z.optional(z.string()),
});

export const kinds = [
  defineTaskKind("opencode", payload, ({ instructions, apiBaseUrl, host }, { processId, workerId, hosts }) =>
    createOpenCodeTask({
      processId,
      name: "opencode",
      config: {
        ...(host === undefined ? {} : { ssh: hosts[host] }),
        installDir: process.env.OPTIO_OPENCODE_INSTALL_DIR,
        installStrategies: ["npm-registry"],
        agentVersion: process.env.OPTIO_OPENCODE_VERSION,
        // The cache opencode's own real-binary tests fill, so no test downloads the binary twice.
        installCacheDir: join(homedir(), ".cache/optio/opencode"),
        consumerInstructions: instructions,
        apiBaseUrl,
        env: { ANTHROPIC_API_KEY: "sk-ant-scripted-test-key-0123456789abcdef" },
        supportsResume: false,
        // What the worker got, said as a report: a client of the queue sees it wherever the task ran.
        onDeliverable: (hook, relative, text) =>
          hook.report("info", `${workerId} received ${relative}: ${text.trim().split("\n")[0]}`),
      },
    }),
  ),
];
