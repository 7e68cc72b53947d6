'use client';

import { useQuery } from '@tanstack/react-query';
import { queryKeys } from '@/lib/client/query-keys';
import type { TLiveResource } from '@/lib/shared/live/change';

/**
 * A breadcrumb's name, kept live: the record's own query (`useLiveRecord`, patched by the
 * live cache) when the page holds one, else the name the server rendered. It never asks
 * the API itself: a crumb above the record (its parent reseller) is read when its own
 * page is open, and a rename of it is then seen there.
 */
export function LiveCrumbLabel({
  resource,
  id,
  label,
}: {
  resource: TLiveResource;
  id: string;
  label: string;
}) {
  const record = useQuery<{ name?: unknown }>({
    queryKey: queryKeys.one(resource, id),
    enabled: false,
  });
  const name = record.data?.name;
  return <>{typeof name === 'string' ? name : label}</>;
}
