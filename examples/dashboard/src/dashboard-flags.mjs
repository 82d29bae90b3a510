// The dashboard's command line: its flags and its usage text.
import { QUEUE_FLAGS, QUEUE_USAGE } from "./queue-mode.mjs";

/** The flags `node src/server.mjs` takes (parseArgs options). */
export const DASHBOARD_FLAGS = {
  demo: { type: "boolean" },
  host: { type: "string" },
  port: { type: "string" },
  "data-dir": { type: "string" },
  ...QUEUE_FLAGS,
  help: { type: "boolean", short: "h" },
};

/** What `--help` prints. */
export const DASHBOARD_USAGE =
  "Usage: node src/server.mjs [--demo] [--host 127.0.0.1] [--port N] [--data-dir DIR]\n" +
  "       node src/server.mjs --redis-url URL --database-url URL [--kinds MODULE] [--host …] [--port N]\n" +
  "  --demo      also start one Claude Code task right away\n" +
  "  --host      address to bind (default 127.0.0.1, or $HOST)\n" +
  "  --port      port (default $PORT, or any free port)\n" +
  "  --data-dir  where state and deliverables are kept (default $OPTIO_DASHBOARD_DATA_DIR or ~/.local/share/optio-dashboard)\n" +
  QUEUE_USAGE;
