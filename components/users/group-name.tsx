'use client';

import { useQuery } from '@tanstack/react-query';
import { useJoinedFetch } from '@/lib/client/use-resource';
import { pathOf, queryKeys } from '@/lib/client/query-keys';
import type { TGroupDto, TUseOnlyGroupDto } from '@/lib/shared/schemas/groups';

/**
 * A user's group by name, read by its id (`GET /groups/{id}`, kept live as a record)
 * rather than looked up in a first page of groups: every group is named however many
 * there are, and users sharing a group share one request. A group the viewer may not
 * read (404, or no `groups` section) shows as "—".
 */
export function GroupName({ groupId, enabled = true }: { groupId: string; enabled?: boolean }) {
  const key = queryKeys.one('groups', groupId);
  const joinedFetch = useJoinedFetch();
  const group = useQuery({
    queryKey: key,
    queryFn: ({ signal }) => joinedFetch<TGroupDto | TUseOnlyGroupDto>(pathOf(key), { signal }),
    enabled,
    retry: false,
  });
  return <>{enabled && group.data ? group.data.name : '—'}</>;
}
