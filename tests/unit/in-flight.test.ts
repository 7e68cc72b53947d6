import { describe, expect, it } from 'vitest';
import { sharedInFlight } from '@/lib/server/db/in-flight';

/** A read the test settles by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

describe('identical reads in flight', () => {
  it('share one read while it is under way, and read afresh once it settled', async () => {
    const shared = sharedInFlight<number>();
    const reads: ReturnType<typeof deferred<number>>[] = [];
    const read = () => {
      const next = deferred<number>();
      reads.push(next);
      return next.promise;
    };
    const first = shared('a', read);
    const second = shared('a', read);
    const other = shared('b', read);
    expect(reads).toHaveLength(2);
    reads[0]!.resolve(1);
    reads[1]!.resolve(2);
    expect(await Promise.all([first, second, other])).toEqual([1, 1, 2]);
    // Settled: nothing kept, the next caller reads again.
    const third = shared('a', read);
    expect(reads).toHaveLength(3);
    reads[2]!.resolve(3);
    expect(await third).toBe(3);
  });

  it('gives every caller of a failed read its error, and the next caller reads again', async () => {
    const shared = sharedInFlight<number>();
    const failing = deferred<number>();
    const first = shared('a', () => failing.promise);
    const second = shared('a', () => Promise.resolve(99));
    failing.reject(new Error('database away'));
    await expect(first).rejects.toThrow('database away');
    await expect(second).rejects.toThrow('database away');
    expect(await shared('a', () => Promise.resolve(7))).toBe(7);
  });
});
