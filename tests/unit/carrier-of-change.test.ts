import { describe, expect, it } from 'vitest';
import { carrierOfChange, type TChange } from '@/lib/server/live/change-log';

const C = '00000000-0000-4000-8000-0000000000c1';
const R = '00000000-0000-4000-8000-0000000000d1';

const change = (fields: Partial<TChange>): TChange =>
  ({
    resource: 'customers',
    entityId: R,
    op: 'updated',
    version: 1,
    before: null,
    after: null,
    scopeBefore: null,
    scopeAfter: null,
    ...fields,
  }) as TChange;

describe('the carrier of a change (its place in the log order)', () => {
  it('is the root of its scope path, after or before the change', () => {
    expect(carrierOfChange(change({ scopeAfter: `${C}/${R}/` }))).toBe(C);
    expect(carrierOfChange(change({ scopeBefore: `${C}/`, op: 'deleted' }))).toBe(C);
  });

  it("is the carrier itself for a carrier's own entry", () => {
    expect(carrierOfChange(change({ resource: 'carriers', entityId: C }))).toBe(C);
  });

  it('refuses a change that names no carrier, rather than order it nowhere', () => {
    expect(() => carrierOfChange(change({ resource: 'users' }))).toThrow(/names no carrier/);
  });
});
