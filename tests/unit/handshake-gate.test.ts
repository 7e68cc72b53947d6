import { describe, expect, it } from 'vitest';
import { createHandshakeGate } from '@/server/handshake-gate';

describe('the handshake gate', () => {
  it('lets `limit` handshakes in at once and gives a place back when one ends, once', () => {
    const gate = createHandshakeGate(2);
    const ended: unknown[] = [];
    const first = gate.enter((error?: unknown) => ended.push(error ?? 'ok'))!;
    const second = gate.enter(() => ended.push('second'))!;
    expect(gate.enter(() => {})).toBeNull();
    expect(gate.inFlight).toBe(2);
    first();
    // A handshake's callback runs once per handshake; a second call frees nothing more.
    first('again');
    expect(gate.inFlight).toBe(1);
    expect(ended).toEqual(['ok', 'again']);
    const third = gate.enter(() => ended.push('third'));
    expect(third).not.toBeNull();
    expect(gate.enter(() => {})).toBeNull();
    second();
    third!();
    expect(gate.inFlight).toBe(0);
  });

  it('hints a retry after about as long as handshakes take now, within bounds', () => {
    let clock = 0;
    const gate = createHandshakeGate(1, () => clock);
    expect(gate.retryAfterMs()).toBe(250);
    // Handshakes that take 3 s each (a queue): the hint moves towards 3 s.
    for (let index = 0; index < 200; index++) {
      const leave = gate.enter(() => {})!;
      clock += 3_000;
      leave();
    }
    expect(gate.retryAfterMs()).toBeGreaterThan(2_900);
    expect(gate.retryAfterMs()).toBeLessThanOrEqual(3_000);
    for (let index = 0; index < 200; index++) {
      const leave = gate.enter(() => {})!;
      clock += 60_000;
      leave();
    }
    expect(gate.retryAfterMs()).toBe(10_000);
  });
});
