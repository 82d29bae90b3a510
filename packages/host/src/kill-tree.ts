/**
 * A POSIX `sh` script that ends a process tree and exits 0 only once every
 * process of it is gone (zombies count as gone), or 1 after its bound.
 *
 * The tree is walked again on every round because processes fork while they
 * are being killed; every pid ever seen in the tree is remembered, because a
 * child whose parent died is re-parented to init and would drop out of a
 * fresh parent walk. Members of the root's process group count too.
 * The process list comes from `ps -e -o pid=,ppid=,pgid=,stat=` (procps) and
 * falls back to reading /proc/<pid>/stat where ps is missing or different.
 * After SIGKILL the tree is looked at before the first nap: a killed process
 * is usually gone by the time ps has run, and a stop should not wait for nothing.
 */
export interface KillTreeScriptOptions {
  /** Time between SIGTERM and SIGKILL. */
  graceMs: number;
  /** How long to keep sending SIGKILL before giving up (exit 1). Default 10 s. */
  killBoundMs?: number;
}

const STEP_MS = 50;

export function killTreeScript(pid: number, options: KillTreeScriptOptions): string {
  if (!Number.isSafeInteger(pid) || pid <= 1) throw new RangeError(`not a pid that can be killed: ${pid}`);
  const graceRounds = Math.max(0, Math.ceil(Math.max(0, options.graceMs) / STEP_MS));
  const killRounds = Math.max(1, Math.ceil((options.killBoundMs ?? 10_000) / STEP_MS));
  return `r=${pid}
known=" $r "
alive=""
list() {
  if ps -e -o pid=,ppid=,pgid=,stat= 2>/dev/null; then return 0; fi
  for d in /proc/[0-9]*; do
    { read -r s < "$d/stat"; } 2>/dev/null || continue
    t=\${s##*) }
    set -- $t
    echo "\${d#/proc/} $2 $3 $1"
  done
}
walk() {
  out=$(list | awk -v r="$r" -v self="$$" -v known="$known" '
    BEGIN { n = split(known, k, " "); for (i = 1; i <= n; i++) tree[k[i]] = 1 }
    $1 ~ /^[0-9]+$/ { n2++; pid[n2] = $1; pp[$1] = $2; st[$1] = $4; if ($3 == r) tree[$1] = 1 }
    END {
      changed = 1
      while (changed) {
        changed = 0
        for (i = 1; i <= n2; i++) { p = pid[i]; if (!(p in tree) && (pp[p] in tree)) { tree[p] = 1; changed = 1 } }
      }
      ks = " "; as = ""
      for (p in tree) {
        if (p == self || (p + 0) <= 1) continue
        ks = ks p " "
        if ((p in st) && substr(st[p], 1, 1) != "Z") as = as " " p
      }
      print ks "|" as
    }')
  known=\${out%%|*}
  alive=\${out#*|}
}
nap() { sleep 0.05 2>/dev/null || sleep 1; }
send() {
  kill -$1 -$r 2>/dev/null
  for p in $alive; do kill -$1 "$p" 2>/dev/null; done
}
walk
[ -z "$alive" ] && exit 0
send TERM
i=0
while [ $i -lt ${graceRounds} ]; do
  nap
  walk
  [ -z "$alive" ] && exit 0
  send TERM
  i=$((i + 1))
done
i=0
while [ $i -lt ${killRounds} ]; do
  send KILL
  walk
  [ -z "$alive" ] && exit 0
  nap
  i=$((i + 1))
done
echo "still alive after SIGKILL:$alive" >&2
exit 1
`;
}
