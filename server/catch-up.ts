import type { MikroORM } from '@mikro-orm/postgresql';
import { ZEventsSince, type TEventsAck } from '@/lib/shared/live/events';
import { ApiError } from '@/lib/server/api/errors';
import { zodFields } from '@/lib/server/api/handler';
import { catchUp } from '@/lib/server/services/events/catch-up';
import { getLogger } from '@/lib/server/observability/logger';
import type { TPanelSocket } from './socket';
import { socketActorNow } from './revocation';

/**
 * `events:since` (DESIGN §2 "Catch-up") over the socket: the page `GET /events?since=`
 * would answer, from the same service, for the socket's actor read afresh from the
 * database (as a request's would be) — so a reconnecting tab resumes without an HTTP
 * request, its authentication and Next's routing per page. Refusals carry the API's
 * codes: `resync_required` for a point too old or access changed since.
 */
export function attachCatchUp(
  orm: MikroORM,
  socket: TPanelSocket,
  options: { retentionDays: number },
): void {
  socket.on('events:since', async (payload, ack) => {
    const reply = typeof ack === 'function' ? ack : () => {};
    const refuse = (code: string, message: string): void =>
      reply({ ok: false, error: { code, message } } satisfies TEventsAck);
    const parsed = ZEventsSince.safeParse(payload);
    if (!parsed.success) {
      const fields = zodFields(parsed.error);
      return refuse(
        'invalid_input',
        Object.entries(fields)
          .map(([field, why]) => `${field} ${why}`)
          .join('; '),
      );
    }
    try {
      const em = orm.em.fork();
      const now = await socketActorNow(em, socket);
      if (!now) return refuse('unauthenticated', 'The session is no longer valid.');
      // As the API decides it: the person signed in must have changed a reset password.
      if (now.real.mustChangePassword) {
        return refuse('password_change_required', 'Change your password first.');
      }
      const page = await catchUp(em, now.actor, parsed.data, options);
      reply({ ok: true, page });
    } catch (error) {
      if (error instanceof ApiError) return refuse(error.code, error.message);
      getLogger().error({ err: error }, 'socket: catch-up failed');
      refuse('unavailable', 'Catch-up is unavailable right now; try again.');
    }
  });
}
