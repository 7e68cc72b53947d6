import { apiRoute, json, readQuery } from '@/lib/server/api/handler';
import { getRuntime } from '@/lib/server/runtime';
import { catchUp } from '@/lib/server/services/events/catch-up';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

export const GET = apiRoute(async ({ req, actor, em }) => {
  const runtime = getRuntime();
  return json(
    await catchUp(em, actor, readQuery(req, API_REGISTRY['/events'].GET.query), {
      retentionDays: runtime.config.eventsRetentionDays,
      recent: runtime.recent,
    }),
  );
});
