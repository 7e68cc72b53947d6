import { z } from 'zod';
import { apiRoute, json, readQuery } from '@/lib/server/api/handler';
import { getRuntime } from '@/lib/server/runtime';
import { catchUp } from '@/lib/server/services/events/catch-up';

export const dynamic = 'force-dynamic';

const ZEventsQuery = z.object({
  since: z.coerce.number('must be a seq number').int().nonnegative('must be 0 or more'),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
});

export const GET = apiRoute(async ({ req, actor, em }) => {
  const { eventsRetentionDays } = getRuntime().config;
  return json(
    await catchUp(em, actor, readQuery(req, ZEventsQuery), { retentionDays: eventsRetentionDays }),
  );
});
