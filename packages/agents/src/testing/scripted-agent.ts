import { shellQuote } from "@optio/host";

export interface ScriptedAgentOptions {
  /** What `--version` prints, e.g. "2.1.332 (Claude Code)" to stand in for claude. */
  versionOutput?: string;
}

export const SCRIPTED_SCENARIOS = [
  "happy",
  "deliverable",
  "error",
  "crash",
  "silent-exit",
  "slow",
  "flood",
  "interactive",
  "keys",
  "leave-state",
] as const;
export type ScriptedScenario = (typeof SCRIPTED_SCENARIOS)[number];

/**
 * A POSIX sh stand-in for an agent binary, for protocol tests: it runs the
 * scenario named by `$OPTIO_SCENARIO` (default `happy`) in its cwd, writing
 * optio.log lines the way a real agent following the instructions would.
 * It keeps a `$HOME/.scripted/conversation` file so resume can be tested.
 * The interactive scenario answers the line `pid` with its process id.
 * With `OPTIO_ECHO_ARGS=1` it first logs its arguments as a STATUS line, so a
 * test can see the first message an adapter put into its argv. `leave-state`
 * leaves what real agents do: a cache dir at `$OPTIO_LEFT_CACHE` and an
 * absolute symlink at `$OPTIO_LEFT_LINK`, and ends saying which turn this is
 * and whether the cache was there. A session listing (`session list`, which
 * opencode's resume check runs) is answered with none.
 */
export function scriptedAgentScript(options: ScriptedAgentOptions = {}): string {
  const version = options.versionOutput ?? "scripted-agent 1.0.0";
  return `#!/bin/sh
if [ "$1" = "--version" ]; then echo ${shellQuote(version)}; exit 0; fi
if [ "$1" = "session" ] && [ "$2" = "list" ]; then echo '[]'; exit 0; fi
scenario="\${OPTIO_SCENARIO:-happy}"
log=optio.log
mkdir -p "$HOME/.scripted"
if [ "$OPTIO_ECHO_ARGS" = 1 ]; then echo "STATUS: args: $*" >> "$log"; fi
for arg in "$@"; do
  if [ "$arg" = "--continue" ]; then
    echo "continuing the conversation"
    echo "STATUS: continuing the earlier conversation" >> "$log"
  fi
done
echo "turn $(date +%s)" >> "$HOME/.scripted/conversation"
echo "scripted agent: scenario $scenario"
case "$scenario" in
  happy)
    echo "STATUS: 10% reading the instructions" >> "$log"
    echo "STATUS: 60% working" >> "$log"
    echo "STATUS: 100% finishing" >> "$log"
    echo "DONE: scripted work finished" >> "$log"
    ;;
  deliverable)
    mkdir -p deliverables
    printf '# Report\\n\\nAll good.\\n' > deliverables/report.md
    echo "DELIVERABLE: deliverables/report.md" >> "$log"
    echo "DONE: report written" >> "$log"
    ;;
  error)
    echo "ERROR: the scripted agent failed on purpose" >> "$log"
    ;;
  crash)
    echo "something went badly wrong"
    exit 3
    ;;
  silent-exit)
    exit 0
    ;;
  slow)
    i=0
    while :; do
      i=$((i + 1))
      echo "STATUS: tick $i" >> "$log"
      sleep 0.2
    done
    ;;
  flood)
    awk -v n="\${OPTIO_FLOOD_LINES:-10000}" 'BEGIN { for (i = 1; i <= n; i++) print "STATUS: line " i }' >> "$log"
    echo "DONE: flooded" >> "$log"
    ;;
  interactive)
    printf 'scripted agent ready> '
    while IFS= read -r line; do
      echo "you said: $line"
      echo "STATUS: heard $line" >> "$log"
      if [ "$line" = pid ]; then echo "STATUS: pid $$" >> "$log"; fi
      if [ "$line" = quit ]; then echo "DONE: asked to quit" >> "$log"; exit 0; fi
      printf '> '
    done
    ;;
  keys)
    # Raw mode: every byte the terminal delivers is logged as it comes, so a test sees exactly what keys produced.
    stty raw -echo
    printf 'keys ready> '
    while :; do
      byte=$(dd bs=1 count=1 2>/dev/null | od -An -tx1 | tr -d ' \\n')
      [ -n "$byte" ] || exit 0
      echo "STATUS: byte $byte" >> "$log"
    done
    ;;
  leave-state)
    cache=absent
    if [ -e "$OPTIO_LEFT_CACHE" ]; then cache=present; fi
    mkdir -p "$OPTIO_LEFT_CACHE" "$(dirname "$OPTIO_LEFT_LINK")"
    echo regenerable > "$OPTIO_LEFT_CACHE/blob"
    ln -sfn /usr/bin/env "$OPTIO_LEFT_LINK"
    echo "DONE: turn $(wc -l < "$HOME/.scripted/conversation" | tr -d ' '), cache $cache" >> "$log"
    ;;
  *)
    echo "ERROR: unknown scenario $scenario" >> "$log"
    ;;
esac
`;
}
