import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { envelopeFor } from '@/lib/server/authz/audience';
import { subtreePattern } from '@/lib/server/authz/scope';
import { ApiError } from '@/lib/server/api/errors';
import { logHead, oldestRetainedSeq, readLogAfter } from '@/lib/server/live/read-log';
import type { TChangeEnvelope } from '@/lib/shared/live/change';

/**
 * `GET /events?since=`: the changes after `since` that the caller would have received
 * live, decided by the same audience function as the fan-out, in seq order, up to
 * `limit`; `seq` is the position to resume from. Older than the window: 410.
 */
export async function catchUp(
  em: EntityManager,
  actor: TActor,
  query: { since: number; limit: number },
  options: { retentionDays: number },
): Promise<{ items: TChangeEnvelope[]; seq: number }> {
  const head = await logHead(em);
  if (query.since < head) {
    const oldest = await oldestRetainedSeq(em, options.retentionDays);
    if (oldest === null || query.since < oldest - 1) {
      throw new ApiError(
        410,
        'resync_required',
        'That point is older than the kept log; fetch afresh.',
      );
    }
  }
  const entries = await readLogAfter(em, query.since, query.limit, subtreePattern(actor));
  const items = entries.flatMap((entry) => envelopeFor(actor, entry) ?? []);
  // A full page means more may follow: resume after its last entry, not at the head.
  const seq =
    entries.length === query.limit ? entries[entries.length - 1]!.seq : Math.max(head, query.since);
  return { items, seq };
}
