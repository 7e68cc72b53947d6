import { z } from 'zod';
import { apiRoute, json, readQuery } from '@/lib/server/api/handler';
import { getRuntime } from '@/lib/server/runtime';
import { catchUp } from '@/lib/server/services/events/catch-up';
import { EVENTS_PAGE_DEFAULT, EVENTS_PAGE_MAX } from '@/lib/shared/live/events';

export const dynamic = 'force-dynamic';

const ZEventsQuery = z.object({
  since: z.coerce.number('must be a seq number').int().nonnegative('must be 0 or more'),
  limit: z.coerce.number().int().min(1).max(EVENTS_PAGE_MAX).default(EVENTS_PAGE_DEFAULT),
});

export const GET = apiRoute(async ({ req, actor, em }) => {
  const { eventsRetentionDays } = getRuntime().config;
  return json(
    await catchUp(em, actor, readQuery(req, ZEventsQuery), { retentionDays: eventsRetentionDays }),
  );
});
