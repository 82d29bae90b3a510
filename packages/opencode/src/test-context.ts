import { homedir } from "node:os";
import { join } from "node:path";

/**
 * A stand-in `opencode`: `--version` prints a version the way the real one
 * does; `session list --format json` prints `$XDG_DATA_HOME/opencode/sessions.json`
 * when the test put one there (the real one reads its database).
 */
export const FAKE_OPENCODE =
  '#!/bin/sh\nif [ "$1" = --version ]; then echo "1.18.34"; exit 0; fi\n' +
  'if [ "$1 $2" = "session list" ]; then cat "$XDG_DATA_HOME/opencode/sessions.json" 2>/dev/null; exit 0; fi\necho "fake opencode $*"\n';

/** The version the real-binary tests pin, so CI reuses ~/.cache/optio instead of following `latest`. */
export const REAL_OPENCODE_VERSION = "1.18.34";

/** The real user's opencode dirs, which a task with an isolated HOME must leave alone, and the paths it must not create. */
export const REAL_OPENCODE_DIRS = {
  watched: [join(homedir(), ".local/share/opencode"), join(homedir(), ".config/opencode")],
  untouched: [join(homedir(), ".local/state/opencode"), join(homedir(), ".cache/opencode"), "/tmp/opencode"],
};
