'use client';

import { useQuery } from '@tanstack/react-query';
import { pathOf } from './query-keys';
import { OWN_IDENTITY_KEY } from './live-cache';
import { useJoinedFetch } from './use-resource';
import type { TMeDto } from '@/lib/shared/schemas/me';

/**
 * The viewer as the server sees it now (`GET /me`), starting from what the page was
 * rendered with and fetched again when the live cache hears that the viewer's own
 * account changed (a rename by the carrier, its status: lib/server/authz/audience.ts
 * `ownAccountDeliveries`) or its access did, so the header and the overview follow it
 * without a reload. Read once more on mount, after the socket has joined: a rename
 * committed between the server's render and the join reached no room of this tab.
 */
export function useMe(initial: TMeDto): TMeDto {
  const joinedFetch = useJoinedFetch();
  const me = useQuery({
    queryKey: OWN_IDENTITY_KEY,
    queryFn: ({ signal }) => joinedFetch<TMeDto>(pathOf(OWN_IDENTITY_KEY), { signal }),
    initialData: initial,
    refetchOnMount: 'always',
  });
  return me.data;
}
