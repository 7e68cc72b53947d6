/**
 * Identical reads asked while one is under way share it: the callers get that read's
 * answer (or its error), as if they had asked when it started, and the next caller after
 * it settles reads afresh. Nothing is kept once a read settles — this is not a cache.
 * Used where many connections ask the very same question at the same moment (issue 14:
 * a reconnect storm brings every socket back at once, and the sockets sharing a
 * credential all ask for their catch-up together). Per process.
 */
export function sharedInFlight<T>(): (key: string, read: () => Promise<T>) => Promise<T> {
  const reading = new Map<string, Promise<T>>();
  return (key, read) => {
    const pending = reading.get(key);
    if (pending) return pending;
    const answer = read().finally(() => reading.delete(key));
    reading.set(key, answer);
    return answer;
  };
}
