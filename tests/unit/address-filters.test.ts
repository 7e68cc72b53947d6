import { describe, expect, it } from 'vitest';
import { addressFilters, isCalendarDay, renderKey } from '@/lib/server/pages/address-filters';
import { addressSearch } from '@/lib/shared/schemas/common';

describe("a list page's filters from its address", () => {
  it('keeps what the page knows and ignores the rest', () => {
    const { one, pick, day } = addressFilters({
      status: 'unrated',
      op: 'renamed',
      from: '2026-02-28',
      to: '2026-02-31',
      tags: ['a', 'b'],
    });
    expect(pick('status', ['rated', 'unrated'] as const)).toBe('unrated');
    expect(pick('op', ['created', 'updated'] as const)).toBe('');
    expect(day('from')).toBe('2026-02-28');
    // A day no calendar has: a date field would show it empty while it filtered.
    expect(day('to')).toBe('');
    // Given twice, a parameter is no one value.
    expect(one('tags')).toBe('');
    expect(one('missing')).toBe('');
  });

  it('knows a calendar day', () => {
    expect(isCalendarDay('2024-02-29')).toBe(true);
    expect(isCalendarDay('2026-02-29')).toBe(false);
    expect(isCalendarDay('2026-13-01')).toBe(false);
    expect(isCalendarDay('2026-1-01')).toBe(false);
    expect(isCalendarDay('2026-12-07T00:00')).toBe(false);
  });

  it('gives each render its own key', () => {
    expect(renderKey()).not.toBe(renderKey());
  });
});

describe("a list page's search from its address", () => {
  it('keeps a search the API takes, ignores the rest', () => {
    expect(addressSearch('Acme')).toBe('Acme');
    // A control character or a lone surrogate would make the list a 400: ignored.
    expect(addressSearch('a\nb')).toBe('');
    expect(addressSearch('a\ud800')).toBe('');
    // Cut at 200 characters, never inside a pair.
    expect(addressSearch('😀'.repeat(250))).toBe('😀'.repeat(200));
  });
});
