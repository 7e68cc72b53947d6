import { describe, expect, it } from 'vitest';
import { cutText, hasLoneSurrogate } from '@/lib/shared/schemas/common';

describe('cutText', () => {
  it('cuts to the length, never leaving half of a pair', () => {
    const emoji = '\u{1F600}';
    expect(cutText('abcdef', 4)).toBe('abcd');
    expect(cutText('abc', 4)).toBe('abc');
    // The pair would straddle the cut: it goes whole, the text one unit shorter.
    expect(cutText(`abc${emoji}`, 4)).toBe('abc');
    expect(cutText(`ab${emoji}c`, 4)).toBe(`ab${emoji}`);
    for (let max = 0; max <= 12; max++) {
      const cut = cutText(`${emoji}a${emoji}${emoji}b${emoji}`, max);
      expect(cut.length).toBeLessThanOrEqual(max);
      expect([max, hasLoneSurrogate(cut)]).toEqual([max, false]);
    }
  });
});
