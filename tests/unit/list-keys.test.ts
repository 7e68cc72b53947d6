import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { QueryClient, type InfiniteData } from '@tanstack/react-query';
import { pathOf, queryKeys, sameListBesidesSearch } from '@/lib/client/query-keys';
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

  it('counts one that leaves from a page not loaded yet, and only while one is left to load', () => {
    // 'z' is on a later page (the list has a next cursor): it was in the total.
    expect(patchPages(data, change('resellers.deleted', 'z')).pages[0]!.total).toBe(6);
    expect(patchPages(data, change('resellers.removed', 'z')).pages[0]!.total).toBe(6);
    // Every page loaded and 'z' on none: the total never held it.
    const whole = { ...data, pages: [{ ...data.pages[0]!, nextCursor: null, total: 1 }] };
    expect(patchPages(whole, change('resellers.deleted', 'z')).pages[0]!.total).toBe(1);
    // Replayed onto a read made after it (kept while the list was fetched): that read's
    // total no longer counted it.
    expect(patchPages(data, change('resellers.deleted', 'z'), true).pages[0]!.total).toBe(7);
    expect(patchPages(data, change('resellers.deleted', 'a'), true).pages[0]!.total).toBe(6);
  });
});

describe('every query key is structured (issue 14, item 7)', () => {
  const root = path.resolve(import.meta.dirname, '../..');
  const sources = (dir: string): string[] =>
    readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
      const relative = path.join(dir, entry.name);
      if (entry.isDirectory()) return sources(relative);
      return /\.(ts|tsx)$/.test(entry.name) ? [relative] : [];
    });

  it('no query is keyed by a hand-written array: keys come from queryKeys', () => {
    const handWritten = ['app', 'components', 'lib/client']
      .flatMap(sources)
      .flatMap((file) =>
        [
          ...readFileSync(path.join(root, file), 'utf8').matchAll(/queryKey\s*[:=]\s*\[[^\]]*/g),
        ].map((match) => `${file}: ${match[0]}`),
      );
    expect(handWritten).toEqual([]);
  });

  it("an account's ledger: its path, and one invalidation for every kind filter", async () => {
    const ledger = (id: string, kind?: string) =>
      queryKeys.static('accounts', { id, sub: 'ledger', filter: { kind } });
    expect(pathOf(ledger('a-1'), { limit: '20', cursor: undefined })).toBe(
      '/accounts/a-1/ledger?limit=20',
    );
    expect(pathOf(ledger('a-1', 'payment'), { limit: '20', cursor: 'c 1' })).toBe(
      '/accounts/a-1/ledger?kind=payment&limit=20&cursor=c+1',
    );
    const client = new QueryClient();
    for (const key of [ledger('a-1'), ledger('a-1', 'payment'), ledger('a-2')]) {
      client.setQueryData(key, { pages: [] });
    }
    await client.invalidateQueries({
      queryKey: queryKeys.static('accounts', { id: 'a-1', sub: 'ledger' }),
    });
    const invalidated = (key: readonly unknown[]) => client.getQueryState(key)?.isInvalidated;
    expect([ledger('a-1'), ledger('a-1', 'payment'), ledger('a-2')].map(invalidated)).toEqual([
      true,
      true,
      false,
    ]);
  });
});
