import type { EntityManager } from '@mikro-orm/postgresql';
import type { TCard } from '@/lib/server/entities';
import type { TChange } from '@/lib/server/live/change-log';
import { notifyAccounts } from '@/lib/server/services/notifications/notify-accounts';
import type { TRevisionCounts } from '@/lib/shared/schemas/revisions';
import type { TRecordedRevision } from './revisions';

/**
 * Tells the accounts that buy from a card that its rates change on a date (issue 16,
 * "Notice"): the accounts holding it by assignment, and — for a derived card scheduled
 * in step with its parent — the account that owns it, whose sell prices follow. Only
 * people who may read cards are told (the notification centre asks authz), and the
 * notice says what changes and when, never the owner's margin.
 */
export async function noticeRevisionScheduled(
  tx: EntityManager,
  record: (change: TChange) => void,
  card: TCard,
  revision: TRecordedRevision,
  holders: readonly string[],
  options: { ownerFollows: boolean },
): Promise<void> {
  const date = revision.liveAt.toISOString();
  const tell = (accountIds: string[], counts: TRevisionCounts) =>
    notifyAccounts(tx, record, {
      accountIds,
      readGrants: ['cards:read'],
      kind: 'card.revision_scheduled',
      title: `${card.name}: new rates from ${date.slice(0, 16).replace('T', ' ')} UTC`,
      body: `Revision ${revision.number} of ${card.name} goes live at ${date}: ${changeSummary({ counts })}.`,
      link: `/cards/${card.id}?tab=revisions`,
      data: { cardId: card.id, number: revision.number, liveAt: date, counts },
    });
  if (options.ownerFollows) await tell([card.owner.id], revision.counts);
  // Holders read the counts of what they see; a revision that changes none of it (only
  // whether the seller loses on a row) is no news to them.
  const seen = revision.holderCounts;
  const news = seen.added + seen.removed + seen.increased + seen.decreased + seen.changed;
  const buyers = holders.filter((holder) => holder !== card.owner.id);
  if (buyers.length && news > 0) await tell(buyers, seen);
}

/**
 * Tells those a revision's notice told (`noticeRevisionScheduled`: the accounts whose
 * people got it) that it was cancelled: they may have priced their own customers on it.
 * Only those that still buy from the card or own it (a holder since unassigned, a
 * customer moved away, reads it no more), read again through authz as every notice is.
 */
export async function noticeRevisionCancelled(
  tx: EntityManager,
  record: (change: TChange) => void,
  card: Pick<TCard, 'id' | 'name'>,
  number: number,
  liveAt: Date | string,
): Promise<void> {
  const told = await tx.execute<{ account_id: string }[]>(
    `select distinct n.account_id from notification n
      where n.kind = 'card.revision_scheduled' and n.data ->> 'cardId' = ?
        and n.data ->> 'number' = ?
        and (exists (select 1 from card_assignment a
                      where a.card_id = ? and a.account_id = n.account_id)
             or exists (select 1 from card c where c.id = ? and c.owner_id = n.account_id))`,
    [card.id, String(number), card.id, card.id],
  );
  if (!told.length) return;
  const date = new Date(liveAt).toISOString();
  await notifyAccounts(tx, record, {
    accountIds: told.map((row) => row.account_id),
    readGrants: ['cards:read'],
    kind: 'card.revision_cancelled',
    title: `${card.name}: the rates from ${date.slice(0, 16).replace('T', ' ')} UTC are cancelled`,
    body: `Revision ${number} of ${card.name}, due to go live at ${date}, is cancelled: the rates in force stay.`,
    link: `/cards/${card.id}?tab=revisions`,
    data: { cardId: card.id, number, liveAt: date },
  });
}

/** "214 prefixes up, 3 down, 12 new, 1 removed" — what a buyer reads first. */
export function changeSummary({ counts }: Pick<TRecordedRevision, 'counts'>): string {
  const parts = (
    [
      [counts.increased, 'up'],
      [counts.decreased, 'down'],
      [counts.added, 'new'],
      [counts.removed, 'removed'],
      [counts.changed, 'with other terms changed'],
    ] as const
  ).filter(([count]) => count > 0);
  if (!parts.length) return 'no prefix changes';
  return parts
    .map(([count, what], index) =>
      // The noun once, on the first figure.
      index === 0 ? `${count} ${count === 1 ? 'prefix' : 'prefixes'} ${what}` : `${count} ${what}`,
    )
    .join(', ');
}
