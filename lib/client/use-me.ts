'use client';

import { useQuery } from '@tanstack/react-query';
import { apiFetch } from './api';
import { pathOf, queryKeys } from './query-keys';
import type { TMeDto } from '@/lib/shared/schemas/me';

const ME_KEY = queryKeys.anyChange('me');

/**
 * The viewer as the server sees it now (`GET /me`), starting from what the page was
 * rendered with and fetched again after any change this viewer receives — among them
 * the signal that its own account changed (a rename by the carrier, its status:
 * lib/server/authz/audience.ts `ownAccountDeliveries`), so the header and the overview
 * follow it without a reload.
 */
export function useMe(initial: TMeDto): TMeDto {
  const me = useQuery({
    queryKey: ME_KEY,
    queryFn: () => apiFetch<TMeDto>(pathOf(ME_KEY)),
    initialData: initial,
  });
  return me.data;
}
