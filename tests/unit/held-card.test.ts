import { describe, expect, it } from 'vitest';
import { cardHeldAt, type TCardSpan } from '@/lib/server/services/assignments/held-card';

/** A customer given A at 100, B in its place at 200 (a replacement: A ends as B starts),
 * B taken away at 300, C given at 400 and still held; a zero-length span (given and
 * replaced in one transaction) at 200. */
const spans: TCardSpan[] = [
  { card: 'A', from: 100, to: 200 },
  { card: 'Z', from: 200, to: 200 },
  { card: 'B', from: 200, to: 300 },
  { card: 'C', from: 400, to: null },
];

describe('the card a call is priced at', () => {
  it('is the card held when the call started, a replacement starting at its instant', () => {
    expect(cardHeldAt(spans, 100)).toBe('A');
    expect(cardHeldAt(spans, 199.9)).toBe('A');
    expect(cardHeldAt(spans, 200)).toBe('B');
    expect(cardHeldAt(spans, 299)).toBe('B');
    expect(cardHeldAt(spans, 10_000)).toBe('C');
  });

  it('is the next card given when none was held then: before the first, or in a gap', () => {
    expect(cardHeldAt(spans, 0)).toBe('A');
    expect(cardHeldAt(spans, 300)).toBe('C');
    expect(cardHeldAt(spans, 399)).toBe('C');
  });

  it('never is a card given and taken in one instant; a tie goes to the lower card id', () => {
    const instant: TCardSpan[] = [
      { card: 'Z', from: 50, to: 50 },
      { card: 'b', from: 50, to: null },
      { card: 'a', from: 50, to: null },
    ];
    expect(cardHeldAt(instant, 0)).toBe('a');
    expect(cardHeldAt([{ card: 'Z', from: 50, to: 50 }], 0)).toBeNull();
  });

  it('is none when no card was held then nor given since', () => {
    expect(cardHeldAt([{ card: 'A', from: 100, to: 200 }], 250)).toBeNull();
    expect(cardHeldAt([], 250)).toBeNull();
  });
});
