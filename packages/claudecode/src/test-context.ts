import { homedir } from "node:os";
import { join } from "node:path";

/** A stand-in `claude`: prints what the real one prints for `--version`. */
export const FAKE_CLAUDE =
  '#!/bin/sh\nif [ "$1" = --version ]; then echo "2.1.332 (Claude Code)"; exit 0; fi\necho "fake claude $*"\n';

/** The version the real-binary tests pin, so CI reuses ~/.cache/optio instead of following `latest`. */
export const REAL_CLAUDE_VERSION = "2.1.332";

/** The real user's Claude Code state, which a task with an isolated HOME must leave alone. */
export const REAL_CLAUDE_DIRS = { watched: [join(homedir(), ".claude")] };
