import type { MikroORM } from '@mikro-orm/postgresql';
import { ZEventsSince } from '@/lib/shared/live/events';
import { catchUp } from '@/lib/server/services/events/catch-up';
import type { TPanelSocket } from './socket';
import { onClientMessage } from './client-message';
import type { RecentLog } from '@/lib/server/live/recent-log';

/**
 * `events:since` (DESIGN §2 "Catch-up") over the socket: the page `GET /events?since=`
 * would answer, from the same service, for the socket's credential taken through the
 * door afresh (as a request's would be) — so a reconnecting tab resumes without an HTTP
 * request, its authentication and Next's routing per page. Refusals carry the API's
 * codes: `resync_required` for a point too old or access changed since.
 */
export function attachCatchUp(
  orm: MikroORM,
  socket: TPanelSocket,
  options: { retentionDays: number; passed: () => number; recent?: RecentLog },
): void {
  onClientMessage(
    orm,
    socket,
    'events:since',
    ZEventsSince,
    async (input, actor) => ({ page: await catchUp(orm.em.fork(), actor, input, options) }),
    { fresh: { passed: options.passed } },
  );
}
