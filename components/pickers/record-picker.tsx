'use client';

import { useState } from 'react';
import { queryKeys, type TFilter } from '@/lib/client/query-keys';
import { usePagedList } from '@/lib/client/use-resource';
import { useDebounced } from '@/lib/client/use-debounced';
import type { TLiveItem } from '@/lib/client/live-cache';
import type { TLiveResource } from '@/lib/shared/live/change';
import { Combobox, type TComboOption } from '@/components/ui/combobox';
import type { TUserDto } from '@/lib/shared/schemas/users';

/** Where a picker's options come from: a list endpoint searched with `q`, and its rows as options. */
export interface TPickerSource {
  resource: TLiveResource;
  filter?: TFilter;
  /** A row as an option, or null to leave it out (the caller's own exclusions). */
  toOption: (item: TLiveItem & Record<string, unknown>) => TComboOption | null;
}

const PAGE = 20;

/** Users in the viewer's scope, by email with the name beside it. */
export const USERS_SOURCE: TPickerSource = {
  resource: 'users',
  toOption: (item) => {
    const user = item as unknown as TUserDto;
    return { id: user.id, label: user.email, detail: user.name ?? undefined };
  },
};

/** The picker's sources: the account lists the viewer reads, each option naming its kind. */
export function accountSources(from: {
  resellers: boolean;
  customers: boolean;
}): [TPickerSource] | [TPickerSource, TPickerSource] {
  const source = (resource: 'resellers' | 'customers'): TPickerSource => ({
    resource,
    toOption: (item) => ({
      id: item.id,
      label: String(item.name),
      detail: `${resource === 'resellers' ? 'reseller' : 'customer'}, under ${String(item.parentName ?? '')}`,
    }),
  });
  if (from.resellers && from.customers) return [source('resellers'), source('customers')];
  return [source(from.resellers ? 'resellers' : 'customers')];
}

/**
 * A record picker searched on the server: what is typed becomes the list endpoint's `q`
 * (debounced), so any record in the caller's scope is reachable however long the list,
 * and scrolling or arrowing past the last option loads the next page. One or two sources
 * (resellers and customers for an assignment); `local` options (the caller's own account)
 * are matched here and listed first.
 */
export function RecordPicker({
  id,
  label,
  sources,
  local = [],
  value,
  onChange,
  error,
  placeholder,
  disabled,
  required,
  initialOption = null,
}: {
  id?: string;
  label: string;
  sources: [TPickerSource] | [TPickerSource, TPickerSource];
  local?: TComboOption[];
  /** The chosen id ('' for none). */
  value: string;
  onChange: (id: string, option: TComboOption | null) => void;
  error?: string;
  placeholder?: string;
  disabled?: boolean;
  required?: boolean;
  /**
   * The option `value` names when the page opens with it (read by the server): it may
   * not be among the first options fetched, and the field would look empty.
   */
  initialOption?: TComboOption | null;
}) {
  const [query, setQuery] = useState('');
  const [chosen, setChosen] = useState<TComboOption | null>(initialOption);
  const q = useDebounced(query.trim(), 250);
  const [first, second] = sources;
  const a = usePagedList<TLiveItem & Record<string, unknown>>(
    queryKeys.list(first.resource, { ...first.filter, q }),
    { pageSize: PAGE, enabled: !disabled },
  );
  const b = usePagedList<TLiveItem & Record<string, unknown>>(
    queryKeys.list((second ?? first).resource, { ...(second ?? first).filter, q }),
    { pageSize: PAGE, enabled: Boolean(second) && !disabled },
  );
  const needle = q.toLowerCase();
  const options = [
    ...local.filter((option) => option.label.toLowerCase().includes(needle)),
    ...(a.data ?? []).map(first.toOption),
    ...(second ? (b.data ?? []).map(second.toOption) : []),
  ].filter((option, index, all): option is TComboOption =>
    Boolean(option && all.findIndex((other) => other?.id === option.id) === index),
  );
  // The form may set or clear the value itself (a reset, a preselected account).
  const selected =
    value === ''
      ? null
      : chosen?.id === value
        ? chosen
        : (options.find((option) => option.id === value) ?? null);
  const hasMore = Boolean(a.hasNextPage || (second && b.hasNextPage));
  return (
    <Combobox
      id={id}
      label={label}
      query={query}
      onQueryChange={setQuery}
      options={options}
      value={selected}
      onChange={(option) => {
        setChosen(option);
        onChange(option?.id ?? '', option);
      }}
      loading={a.isFetching || (Boolean(second) && b.isFetching)}
      // A search that failed after its retries (record-picker's lists retry a transient
      // failure twice, within a second) says so and is read again on asking.
      failed={a.isError || (Boolean(second) && b.isError)}
      onRetry={() => {
        if (a.isError) void a.refetch();
        if (second && b.isError) void b.refetch();
      }}
      hasMore={hasMore}
      onLoadMore={() => {
        if (a.hasNextPage && !a.isFetchingNextPage) void a.fetchNextPage();
        else if (second && b.hasNextPage && !b.isFetchingNextPage) void b.fetchNextPage();
      }}
      error={error}
      placeholder={placeholder}
      disabled={disabled}
      required={required}
    />
  );
}
