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
