import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHandshakeGate } from '@/server/handshake-gate';

afterEach(() => {
  vi.useRealTimers();
});

describe('the handshake gate', () => {
  it('lets `limit` in at once, queues the next `queue` in arrival order and refuses the rest', async () => {
    const gate = createHandshakeGate({ limit: 2, queue: 2 });
    const ended: unknown[] = [];
    const first = (await gate.enter((error?: unknown) => ended.push(error ?? 'ok')))!;
    const second = (await gate.enter(() => ended.push('second')))!;
    const admitted: string[] = [];
    const third = gate
      .enter(() => ended.push('third'))
      .then((leave) => {
        admitted.push('third');
        return leave;
      });
    const fourth = gate
      .enter(() => ended.push('fourth'))
      .then((leave) => {
        admitted.push('fourth');
        return leave;
      });
    expect(gate.inFlight).toBe(2);
    expect(gate.waiting).toBe(2);
    // The queue is full: refused at once.
    expect(await gate.enter(() => {})).toBeNull();
    first();
    // A handshake's callback runs once per handshake; a second call frees nothing more.
    first('again');
    expect(ended).toEqual(['ok', 'again']);
    const leaveThird = await third;
    expect(admitted).toEqual(['third']);
    expect(gate.inFlight).toBe(2);
    expect(gate.waiting).toBe(1);
    second();
    (await fourth)!();
    leaveThird!();
    expect(admitted).toEqual(['third', 'fourth']);
    expect(gate.inFlight).toBe(0);
    expect(gate.waiting).toBe(0);
    // Free places again: a new one goes straight in.
    expect(await gate.enter(() => {})).not.toBeNull();
  });

  it('refuses a handshake that waited `maxWaitMs` for a place, and keeps the others in line', async () => {
    vi.useFakeTimers();
    const gate = createHandshakeGate({ limit: 1, queue: 5, maxWaitMs: 1_000 });
    const leave = (await gate.enter(() => {}))!;
    const early = gate.enter(() => {});
    vi.advanceTimersByTime(600);
    const late = gate.enter(() => {});
    vi.advanceTimersByTime(500);
    expect(await early).toBeNull();
    expect(gate.waiting).toBe(1);
    leave();
    expect(await late).not.toBeNull();
    expect(gate.inFlight).toBe(1);
    expect(gate.waiting).toBe(0);
  });

  it('gives a place in the queue up at once when its connection closes', async () => {
    const gate = createHandshakeGate({ limit: 1, queue: 1 });
    const leave = (await gate.enter(() => {}))!;
    const closed = new AbortController();
    const leaver = gate.enter(() => {}, closed.signal);
    // The queue is full while it waits…
    expect(await gate.enter(() => {})).toBeNull();
    closed.abort();
    // Gone from the queue at the close itself, not when its wait runs out.
    expect(gate.waiting).toBe(0);
    expect(await leaver).toBeNull();
    // …and its place is free again: the next one queues and gets in after the first.
    const next = gate.enter(() => {});
    leave();
    expect(await next).not.toBeNull();
    expect(gate.inFlight).toBe(1);
    // A connection already gone never queues.
    const gone = new AbortController();
    gone.abort();
    expect(await gate.enter(() => {}, gone.signal)).toBeNull();
    expect(gate.waiting).toBe(0);
  });

  it('keeps the others in arrival order when connections leave from the middle', async () => {
    const gate = createHandshakeGate({ limit: 1, queue: 1_000 });
    let leave = (await gate.enter(() => {}))!;
    const admitted: number[] = [];
    const closers = Array.from({ length: 1_000 }, () => new AbortController());
    const waits = closers.map((closer, index) =>
      gate
        .enter(() => {}, closer.signal)
        .then((next) => {
          if (next) admitted.push(index);
          return next;
        }),
    );
    // Every other one gives up while it waits.
    closers.forEach((closer, index) => index % 2 === 1 && closer.abort());
    expect(gate.waiting).toBe(500);
    for (let index = 0; index < 1_000; index += 2) {
      leave();
      leave = (await waits[index])!;
    }
    leave();
    expect(admitted).toEqual(Array.from({ length: 500 }, (_, i) => i * 2));
    expect(await Promise.all(waits.filter((_, index) => index % 2 === 1))).toEqual(
      Array(500).fill(null),
    );
    expect([gate.inFlight, gate.waiting]).toEqual([0, 0]);
  });

  it('with no queue refuses everything past the limit', async () => {
    const gate = createHandshakeGate({ limit: 1, queue: 0 });
    expect(await gate.enter(() => {})).not.toBeNull();
    expect(await gate.enter(() => {})).toBeNull();
  });

  it('hints a retry after about as long as handshakes take now, within bounds', async () => {
    let clock = 0;
    const gate = createHandshakeGate({ limit: 1, queue: 0, now: () => clock });
    expect(gate.retryAfterMs()).toBe(250);
    // Handshakes that take 3 s each (a queue): the hint moves towards 3 s.
    for (let index = 0; index < 200; index++) {
      const leave = (await gate.enter(() => {}))!;
      clock += 3_000;
      leave();
    }
    expect(gate.retryAfterMs()).toBeGreaterThan(2_900);
    expect(gate.retryAfterMs()).toBeLessThanOrEqual(3_000);
    for (let index = 0; index < 200; index++) {
      const leave = (await gate.enter(() => {}))!;
      clock += 60_000;
      leave();
    }
    expect(gate.retryAfterMs()).toBe(10_000);
  });
});
