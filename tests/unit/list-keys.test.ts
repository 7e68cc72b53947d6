import { describe, expect, it } from 'vitest';
import type { InfiniteData } from '@tanstack/react-query';
import { queryKeys, sameListBesidesSearch } from '@/lib/client/query-keys';
import { patchPages } from '@/lib/client/live-cache';
import type { TPageOf } from '@/lib/client/api';
import type { TChangeEnvelope } from '@/lib/shared/live/change';

describe('sameListBesidesSearch (which rows may stand in while a list refetches)', () => {
  it('is the same list under another search or sort', () => {
    expect(
      sameListBesidesSearch(
        queryKeys.list('resellers'),
        queryKeys.list('resellers', { q: 'acme', sort: '-name' }),
      ),
    ).toBe(true);
  });

  it('is not another resource, another parent or another card', () => {
    expect(sameListBesidesSearch(queryKeys.list('resellers'), queryKeys.list('customers'))).toBe(
      false,
    );
    expect(
      sameListBesidesSearch(
        queryKeys.list('assignments', { cardId: 'a' }),
        queryKeys.list('assignments', { cardId: 'b', q: 'x' }),
      ),
    ).toBe(false);
    // A key that names anything else (a viewer, say) never shares its rows.
    expect(
      sameListBesidesSearch(
        ['resellers', { view: 'list' }, 'user-1'],
        ['resellers', { view: 'list' }, 'user-2'],
      ),
    ).toBe(false);
  });
});

describe('patchPages keeps the total', () => {
  const data: InfiniteData<TPageOf<{ id: string; version: number }>> = {
    pages: [{ items: [{ id: 'a', version: 1 }], nextCursor: 'c', total: 7 }],
    pageParams: [''],
  };
  const change = (type: string, id: string, version = 1) =>
    ({ seq: 1, type, id, data: { id, version }, at: '' }) as unknown as TChangeEnvelope;

  it('counts an entity that enters, and one that leaves, once', () => {
    expect(patchPages(data, change('resellers.created', 'b')).pages[0]!.total).toBe(8);
    expect(patchPages(data, change('resellers.deleted', 'a')).pages[0]!.total).toBe(6);
    // A repeat of what it holds, or an update, moves nothing.
    expect(patchPages(data, change('resellers.created', 'a')).pages[0]!.total).toBe(7);
    expect(patchPages(data, change('resellers.updated', 'a', 2)).pages[0]!.total).toBe(7);
  });
});
