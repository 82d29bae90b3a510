/**
 * Runs jobs one at a time, in call order; a failed job does not hold up the
 * next. Everything typed into one agent goes through one queue: tmux's paste
 * buffer and the terminal are shared, so two pastes at once would interleave.
 */
export function createInputQueue(): <T>(job: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (job) => {
    const run = tail.then(job);
    tail = run.catch(() => undefined);
    return run;
  };
}
