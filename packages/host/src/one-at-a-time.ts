/**
 * Hands out batches of lines one line per `next()`. A line already read is
 * handed out without a trip through the generator: an async generator's
 * yield costs several promise turns, which a 100,000-line burst pays per line.
 * Once `stop` is aborted no further line is handed out.
 */
export function oneAtATime(
  batches: AsyncGenerator<string[], void, undefined>,
  stop: AbortSignal,
): AsyncIterableIterator<string> {
  let lines: string[] = [];
  let next = 0;
  const refill = async (): Promise<IteratorResult<string, undefined>> => {
    while (next >= lines.length) {
      const batch = await batches.next();
      if (batch.done) return { done: true, value: undefined };
      lines = batch.value;
      next = 0;
    }
    if (stop.aborted) return finish();
    return { done: false, value: lines[next++]! };
  };
  const finish = async (): Promise<IteratorResult<string, undefined>> => {
    lines = [];
    next = 0;
    await batches.return(undefined);
    return { done: true, value: undefined };
  };
  const iterator: AsyncIterableIterator<string> = {
    next() {
      if (next < lines.length && !stop.aborted) return Promise.resolve({ done: false, value: lines[next++]! });
      return refill();
    },
    return: finish,
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
