import { LIVE_RESOURCES, type TLiveResource } from '@/lib/shared/live/change';

/** A list's query-string filters; an absent or empty value is no filter. */
export type TFilter = Record<string, string | undefined>;

/**
 * How the live cache (live-cache.ts) keeps a query current:
 * - `list`: a paged list of the resource — patched in place by id and version when
 *   unfiltered or a set named by id (`filter.ids`), refetched when filtered otherwise,
 *   refetched on the entity's own changes when it hangs under one entity (`sub`: a
 *   card's rates, its margin report);
 * - `one`: one entity, patched in place (refetched when it goes away);
 * - `any-change`: a view over everything (counters, activity, a user's access),
 *   refetched after any change this viewer receives;
 * - `traffic`: calls and their money below one account (`filter.parentId`, or
 *   `filter.accountId` for one account's calls), refetched at most once a second when
 *   usage moves the balance of that account or of one directly below it — at call rate,
 *   not after every change;
 * - `static`: not kept by the live cache (one's own MFA status); a ledger is one too, and
 *   its component reads it again when its account's version moves.
 */
export type TQueryView = 'list' | 'one' | 'any-change' | 'traffic' | 'static';

export interface TQueryParams {
  view: TQueryView;
  /** The entity, or the one `sub` hangs under (`/cards/{id}/rates`). */
  id?: string;
  sub?: string;
  filter?: Record<string, string>;
}

/**
 * Every query of the panel is keyed `[resource, params]`: the live cache matches on the
 * fields, and the request path is built from the key (`pathOf`), never parsed back.
 */
export type TQueryKey = readonly [resource: string, params: TQueryParams];

function cleanFilter(filter: TFilter | undefined): Pick<TQueryParams, 'filter'> {
  const kept = Object.entries(filter ?? {}).filter(
    (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '',
  );
  return kept.length ? { filter: Object.fromEntries(kept) } : {};
}

/** Where under its resource a key points: an entity, a path below it, a filter. */
interface TKeyAt {
  id?: string;
  sub?: string;
  filter?: TFilter;
}

/** A key's params, with only the parts it names (an empty filter is no filter). */
function paramsAt(view: TQueryView, at: TKeyAt): TQueryParams {
  return {
    view,
    ...(at.id ? { id: at.id } : {}),
    ...(at.sub ? { sub: at.sub } : {}),
    ...cleanFilter(at.filter),
  };
}

export const queryKeys = {
  /** `/customers`, `/customers?q=…` */
  list: (resource: TLiveResource, filter?: TFilter): TQueryKey => [
    resource,
    { view: 'list', ...cleanFilter(filter) },
  ],
  /** A list under one entity: `/cards/{id}/rates?prefix=44`, `/cards/{id}/margin`. */
  under: (resource: TLiveResource, id: string, sub: string, filter?: TFilter): TQueryKey => [
    resource,
    { view: 'list', id, sub, ...cleanFilter(filter) },
  ],
  one: (resource: TLiveResource, id: string): TQueryKey => [resource, { view: 'one', id }],
  /** `/dashboard`, `/audit?…`, `/users/{id}/access` */
  anyChange: (resource: string, at: TKeyAt = {}): TQueryKey => [
    resource,
    paramsAt('any-change', at),
  ],
  /** `/usage/summary?by=account&parentId=…`, `/usage?accountId=…` */
  traffic: (resource: string, at: Omit<TKeyAt, 'id'> = {}): TQueryKey => [
    resource,
    paramsAt('traffic', at),
  ],
  /** `/me`, `/me/mfa`, `/accounts/{id}/ledger?kind=…` */
  static: (resource: string, at: TKeyAt = {}): TQueryKey => [resource, paramsAt('static', at)],
};

/** The API path of a key, with extra query-string values (page size, cursor). */
/** A filter as a query string: empty fields left out (a link's, such as an export's). */
export function searchOf(filter: TFilter): string {
  return new URLSearchParams(cleanFilter(filter).filter).toString();
}

export function pathOf(key: TQueryKey, extra: TFilter = {}): string {
  const [resource, { id, sub, filter }] = key;
  const path = ['', resource, id, sub].filter((part) => part !== undefined).join('/');
  const search = searchOf({ ...filter, ...extra });
  return search ? `${path}?${search}` : path;
}

/** The key's parts when it is one of ours (a foreign key is left alone). */
export function readKey(queryKey: readonly unknown[]): TQueryKey | null {
  const [resource, params] = queryKey;
  if (typeof resource !== 'string' || typeof params !== 'object' || params === null) return null;
  return typeof (params as TQueryParams).view === 'string' ? (queryKey as TQueryKey) : null;
}

/** Kept current by live changes of its resource (`list`, `one`). */
export function isLiveKey(key: TQueryKey): key is readonly [TLiveResource, TQueryParams] {
  return (
    (key[1].view === 'list' || key[1].view === 'one') &&
    (LIVE_RESOURCES as readonly string[]).includes(key[0])
  );
}

/** Two keys of the same list that differ at most in their `q` and `sort`. */
export function sameListBesidesSearch(a: readonly unknown[], b: readonly unknown[]): boolean {
  const strip = (key: readonly unknown[]) =>
    JSON.stringify(
      key.map((part) => {
        if (typeof part !== 'object' || part === null) return part;
        const { filter, ...rest } = part as { filter?: Record<string, string> };
        const { q: _q, sort: _sort, ...kept } = filter ?? {};
        return Object.keys(kept).length ? { ...rest, filter: kept } : rest;
      }),
    );
  return strip(a) === strip(b);
}
