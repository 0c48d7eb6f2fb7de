/**
 * Gathers the calls made within one turn of the event loop into one call of `run`, at most
 * `maxSize` at a time, so many concurrent jobs can share one statement and one commit instead of
 * one each. Every caller gets its own result, or the batch's error: no caller hears that its work
 * is done before `run` has finished it.
 */
export function createBatcher<I, O>(options: {
  /** One result per input, in the order of `inputs`. */
  run: (inputs: I[]) => Promise<O[]>;
  maxSize?: number;
}): (input: I) => Promise<O> {
  const maxSize = options.maxSize ?? 100;
  let pending: { input: I; resolve: (value: O) => void; reject: (error: unknown) => void }[] = [];

  function flush() {
    const batch = pending;
    if (batch.length === 0) return;
    pending = [];
    options.run(batch.map((call) => call.input)).then(
      (results) => batch.forEach((call, i) => call.resolve(results[i]!)),
      (error: unknown) => batch.forEach((call) => call.reject(error)),
    );
  }

  return (input) =>
    new Promise<O>((resolve, reject) => {
      pending.push({ input, resolve, reject });
      if (pending.length === 1) setImmediate(flush);
      else if (pending.length >= maxSize) flush();
    });
}
