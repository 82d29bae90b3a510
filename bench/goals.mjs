// Every performance goal: a fixed bound, or a baseline measured in the same run plus an allowance.
const fixed = (op, n) => ({ op, text: `${op} ${n}`, limit: () => n });
const against = (baseline, plus = 0) => ({
  op: "<=",
  baseline,
  text: plus ? `<= ${baseline} + ${plus}` : `<= ${baseline}`,
  limit: (r) => (r[baseline] === undefined ? undefined : r[baseline] + plus),
});
/** At most `factor` times a baseline measured in the same run. */
const times = (baseline, factor) => ({
  op: "<=",
  baseline,
  text: `<= ${factor} × ${baseline}`,
  limit: (r) => (r[baseline] === undefined ? undefined : r[baseline] * factor),
});

export const goals = {
  tail_local_p99_ms: fixed("<=", 2),
  tail_ssh_p99_ms: fixed("<=", 10),
  // The floor is GNU `tail -n0 -F` on the same file (over SSH: as one exec on the same connection).
  burst_local_s: times("burst_tail_f_s", 1.5),
  burst_ssh_s: times("burst_tail_f_ssh_s", 1.5),
  archive_s: against("tar_czf_s"),
  archive_peak_rss_mb: fixed("<=", 64),
  event_local_p99_ms: fixed("<=", 2),
  concurrent50_rss_mb: fixed("<=", 300),
  concurrent50_lost_events: fixed("==", 0),
  keystroke_p99_ms: fixed("<=", 20),
  yes_flood_rss_mb: fixed("<=", 150),
  start_to_live_local_s: against("claude_first_paint_s", 0.3),
  start_to_live_ssh_s: against("claude_first_paint_s", 0.8),
  // The same over a host whose ~/.bashrc sleeps 0.5 s: at most one login shell's startup on the way.
  start_to_live_ssh_slow_rc_s: against("claude_first_paint_s", 1.3),
  // The floor is the same claude with the same HOME, env and kickoff argv started bare in tmux (bench/kickoff.bench.mjs).
  kickoff_first_request_local_s: against("bare_first_request_s", 0.3),
  kickoff_first_request_ssh_s: against("bare_first_request_s", 0.8),
  task_done_local_s: against("bare_task_done_s", 0.5),
  snapshot_capture_s: against("tar_czf_s"),
  // One pass: decompressed once, checked as it lands, swapped in after the on-disk check.
  snapshot_restore_s: times("tar_xzf_s", 1.3),
  snapshot_peak_rss_mb: fixed("<=", 64),
  // Memory must not grow with the workdir: the 230 MB snapshot against the same sessions over two small files.
  // Bytes through Node would add about 40 MB; runs of the same code differ by about 1 MB.
  snapshot_rss_over_floor_mb: fixed("<=", 16),
  // A blob streams through PostgreSQL in 1 MiB rows: the process must not hold the 230 MB.
  pg_blob_peak_rss_mb: fixed("<=", 100),
  queue_dispatch_p99_ms: fixed("<=", 50),
  queue_failover_s: fixed("<=", 15),
  // cancelTask from another process → the owning worker has stopped the task and its `cancelled` outcome is seen.
  queue_cancel_p99_ms: fixed("<=", 1000),
  // From the permission menu on the pane (polled by the bench) to the waiting-permission event; may be negative.
  state_event_local_p99_ms: fixed("<=", 250),
  state_event_ssh_p99_ms: fixed("<=", 500),
};
