import { describe, expect, it } from 'vitest';
import { firstFreeName } from '@/lib/shared/group-names';

describe('firstFreeName', () => {
  it('offers the base, then the first free numbered name', () => {
    expect(firstFreeName('Default Reseller', new Set())).toBe('Default Reseller');
    expect(firstFreeName('Default Reseller', new Set(['Default Reseller']))).toBe(
      'Default Reseller (2)',
    );
    expect(
      firstFreeName('Default Reseller', new Set(['Default Reseller', 'Default Reseller (2)'])),
    ).toBe('Default Reseller (3)');
  });
});
