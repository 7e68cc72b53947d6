import { describe, expect, it } from 'vitest';
import { AA_LARGE, AA_TEXT, contrastRatio } from '@/lib/shared/contrast';

const WHITE = '#ffffff';

describe('contrastRatio (WCAG 2)', () => {
  it.each([
    ['#000000', 21],
    ['#ffffff', 1],
    ['#777777', 4.48],
    ['#767676', 4.54],
    ['#0000ff', 8.59],
    ['#ff0000', 4.0],
    ['#949494', 3.03],
    ['#959595', 3.0],
  ])('%s on white is %d', (colour, expected) => {
    expect(contrastRatio(colour, WHITE)).toBeCloseTo(expected, 2);
  });

  it('is symmetric and reads either case', () => {
    expect(contrastRatio(WHITE, '#1D4ED8')).toBe(contrastRatio('#1d4ed8', WHITE));
  });

  it('puts the AA limits where the known greys fall', () => {
    // #777777 shows as 4.48 and fails; #767676 is the lightest grey that passes.
    expect(contrastRatio('#777777', WHITE)).toBeLessThan(AA_TEXT);
    expect(contrastRatio('#767676', WHITE)).toBeGreaterThanOrEqual(AA_TEXT);
    expect(contrastRatio('#949494', WHITE)).toBeGreaterThanOrEqual(AA_LARGE);
    expect(contrastRatio('#959595', WHITE)).toBeLessThan(AA_LARGE);
  });

  it('refuses what is not #rrggbb', () => {
    expect(() => contrastRatio('#fff', WHITE)).toThrow();
    expect(() => contrastRatio('red', WHITE)).toThrow();
  });
});
