'use client';

import { PanelLink } from '@/components/ui/panel-link';
import { useEffect, useState, type ReactNode } from 'react';
import type { TQueryKey } from '@/lib/client/query-keys';
import { usePagedList } from '@/lib/client/use-resource';
import type { TLiveItem } from '@/lib/client/live-cache';
import type { TPresenceTopic } from '@/lib/shared/live/presence';
import { ListState, LoadMore } from '@/components/ui/field';
import { DataTable, ListCount, type TColumn } from '@/components/ui/panel-section';
import { PresenceAvatars } from '@/components/live/presence-avatars';
import { useBrandName } from '@/lib/client/brand-name';

/** A record's title: its live name, what it is, its status, and who else has it open. */
export function RecordTitle({
  kind,
  titleKind,
  name,
  status,
  topic,
  gone,
}: {
  /** The line above the name ("Reseller", "User · Ann (you)"). */
  kind: ReactNode;
  /** What the tab's title calls it ("Reseller"): `kind` without its details. */
  titleKind: string;
  name: string;
  status?: string;
  topic: TPresenceTopic;
  /** It left the viewer's view (deleted, transferred away) while open. */
  gone: boolean;
}) {
  useRecordDocumentTitle(name, titleKind);
  return (
    <div className="flex flex-wrap items-center justify-between gap-3">
      <div>
        <p className="text-xs font-medium uppercase tracking-wide text-slate-500">{kind}</p>
        <h1
          className="text-2xl font-semibold tracking-tight text-slate-900"
          data-testid="record-name"
        >
          {name}
        </h1>
      </div>
      <div className="flex items-center gap-3">
        {status && !gone ? <StatusBadge status={status} /> : null}
        <PresenceAvatars topic={topic} label="viewing this record" />
      </div>
      {gone ? (
        <p role="alert" className="w-full rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900">
          This record is no longer in your view: it was deleted or moved out of your accounts.
        </p>
      ) : null}
    </div>
  );
}

/**
 * What a record shows under its title and tabs. Once it is gone (deleted, moved out of
 * the viewer's accounts) its last copy stays readable, but every form and button in it is
 * disabled: there is nothing left to save, transfer, delete or view as.
 */
export function RecordBody({ gone, children }: { gone: boolean; children: ReactNode }) {
  return (
    <fieldset disabled={gone} className="contents" data-testid="record-body">
      {children}
    </fieldset>
  );
}

/**
 * The tab names the record ("Acme Voice · Reseller · Nimbus Voice": the brand shown),
 * following its live name. The server's title (the kind only) stands until the page runs.
 */
function useRecordDocumentTitle(name: string, kind: string) {
  const brand = useBrandName();
  useEffect(() => {
    // Not restored on leaving: the next page's own title replaces it (a restore would
    // run after that and put this page's back).
    document.title = `${name} · ${kind} · ${brand}`;
  }, [name, kind, brand]);
}

export function StatusBadge({ status }: { status: string }) {
  const calm = status === 'active';
  return (
    <span
      data-testid="record-status"
      className={`rounded-full px-2.5 py-0.5 text-xs font-semibold ${
        calm ? 'bg-emerald-50 text-emerald-800' : 'bg-red-50 text-red-800'
      }`}
    >
      {status}
    </span>
  );
}

/** Label / value pairs of a record's overview. */
export function Facts({ items }: { items: [string, ReactNode][] }) {
  return (
    <dl className="grid grid-cols-[max-content_1fr] gap-x-6 gap-y-2 text-sm">
      {items.map(([label, value]) => (
        <div key={label} className="contents">
          <dt className="text-slate-500">{label}</dt>
          <dd className="text-slate-900">{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A live list inside a record (its users, its customers…), each row linking to its own page. */
export function RecordList<T extends TLiveItem>({
  queryKey,
  label,
  headers,
  row,
  emptyText,
}: {
  queryKey: TQueryKey;
  label: string;
  /** A column naming a `sort` key sorts the list on the server by it. */
  headers: TColumn[];
  row: (item: T) => ReactNode[];
  emptyText: string;
}) {
  const [sort, setSort] = useState<string | undefined>(undefined);
  const [resource, params] = queryKey;
  const list = usePagedList<T>(
    sort ? [resource, { ...params, filter: { ...params.filter, sort } }] : queryKey,
  );
  const items = list.data ?? [];
  const sortable = headers.some((header) => typeof header !== 'string' && header.sort);
  return (
    <ListState
      isLoading={list.isLoading}
      error={list.error}
      empty={items.length === 0}
      emptyText={emptyText}
    >
      {sortable ? (
        <ListCount
          shown={items.length}
          total={items.total}
          updating={list.isPlaceholderData && list.isFetching}
        />
      ) : null}
      <DataTable
        label={label}
        headers={headers}
        rows={items.map(row)}
        sort={sortable ? { value: sort, onChange: setSort } : undefined}
      />
      <LoadMore list={list} />
    </ListState>
  );
}

export function RecordLink({ href, children }: { href: string; children: ReactNode }) {
  return (
    <PanelLink href={href} className="font-medium text-brand-700 hover:underline">
      {children}
    </PanelLink>
  );
}
