import { USAGE_CLOCK_SKEW_MS } from '@/lib/shared/schemas/usage';
import { carrierIdOf } from '@/lib/server/authz/scope';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { Card } from '@/lib/server/entities';
import { conflict } from '@/lib/server/errors/domain-error';
import { mutate } from '@/lib/server/live/change-log';
import { cardChange, holdersOf, toCardOwnerDto } from '@/lib/server/services/cards/card-store';
import type { TRevisionDto } from '@/lib/shared/schemas/revisions';
import { findCardForRateWrite } from './rate-access';
import {
  assuranceChanged,
  rateSetChanged,
  redoRevisions,
  withdrawLater,
  type TPendingRevision,
} from './rate-sets';
import { findRevision } from './revision-queries';
import { noticeRevisionCancelled } from './revision-notice';
import {
  assertCancelGivesNotice,
  finerRowSql,
  latestRevision,
  loadRevisionSet,
  recordRevision,
  withdrawRevision,
} from './revisions';
import { nudgeRevisionTimer } from './apply-revisions';

/**
 * `POST /cards/{id}/revisions/{n}/rollback`: a copy of revision `n` as the card's next
 * revision, live now or at `liveAt` — history is never rewritten. Derived cards follow
 * as they follow any write.
 */
export async function rollbackRevision(
  em: EntityManager,
  actor: TActor,
  unverifiedCardId: string,
  number: number,
  liveAt: Date | null,
): Promise<TRevisionDto> {
  const { row: written, revision } = await mutate(em, actor, async (tx, record) => {
    const { card, ownerPath } = await findCardForRateWrite(tx, actor, unverifiedCardId);
    const copied = await findRevision(tx, card.id, number);
    if (copied.state === 'cancelled') {
      throw conflict('revision_cancelled', `Revision ${number} was cancelled; it has no rows.`);
    }
    await loadRevisionSet(tx, card.id, number);
    // The card's decimals may have come down since: an older set can be finer than the
    // card now keeps, and would be billed at digits its lists round away.
    const finer = await tx.execute(
      `select 1 from rev_set s where s.card_id = ? and ${finerRowSql('s')} limit 1`,
      [card.id, card.decimals, card.decimals],
    );
    if (finer.length) {
      throw conflict(
        'precision_loss',
        `Revision ${number} has rates with more than the card's ${card.decimals} decimals; raise its decimals first.`,
      );
    }
    const revision = await recordRevision(tx, card.id, {
      source: 'rollback',
      liveAt,
      createdBy: actor.userId,
      basedOn: number,
    });
    await rateSetChanged(
      tx,
      card,
      ownerPath,
      'rollback',
      record,
      undefined,
      revision,
      actor.userId,
    );
    return { row: await findRevision(tx, card.id, revision.number), revision };
  });
  if (written.state === 'scheduled') nudgeRevisionTimer();
  return {
    number: written.number,
    state: written.state,
    // Dated in the carrier's commit order after the row was read (`settleDates`).
    liveAt: revision.liveAt.toISOString(),
    createdAt: new Date(written.created_at).toISOString(),
    source: written.source,
    previous: written.previous,
    basedOn: written.based_on,
    rows: written.rows,
    counts: {
      added: written.added,
      removed: written.removed,
      increased: written.increased,
      decreased: written.decreased,
      changed: written.changed,
      unchanged: written.unchanged,
    },
  };
}

/**
 * `DELETE /cards/{id}/revisions/{n}`: a scheduled revision withdrawn with the revisions
 * its derived cards got from it. Only the latest one of a card (a later one is the diff
 * of this one: cancel it first). A revision whose date has come stays, even before the
 * revision timer applies it: usage is rated with the revision live at the call's start,
 * so calls may already be charged at it, and withdrawing it (its history rows go) would
 * leave the price trace unable to show what they were charged (roll back instead).
 */
export async function cancelRevision(
  em: EntityManager,
  actor: TActor,
  unverifiedCardId: string,
  number: number,
): Promise<void> {
  await mutate(em, actor, async (tx, record) => {
    const { card, ownerPath } = await findCardForRateWrite(tx, actor, unverifiedCardId);
    // The card is locked (the revision timer takes it before its revisions): a revision
    // the timer applied meanwhile reads as applied here. Its date against the clock, not
    // the transaction's start (`now()`): the date may have come while this waited for
    // the card.
    // A call may be dated up to USAGE_CLOCK_SKEW_MS ahead of this clock, so a revision
    // that goes live within it may price calls already.
    const [target] = await tx.execute<{ id: string; live: boolean; rateable: boolean }[]>(
      `select id, live_at <= clock_timestamp() as live,
              live_at <= clock_timestamp() + ? * interval '1 millisecond' as rateable
         from rate_revision
        where card_id = ? and number = ? for update`,
      [USAGE_CLOCK_SKEW_MS, card.id, number],
    );
    const revision = await findRevision(tx, card.id, number);
    if (!target || revision.state === 'cancelled') {
      throw conflict(
        'revision_not_scheduled',
        `Revision ${number} is ${revision.state}; only a scheduled revision can be cancelled.`,
      );
    }
    if (target.live || revision.state !== 'scheduled') {
      const liveAt = new Date(revision.live_at).toISOString();
      throw conflict(
        'revision_live',
        `Revision ${number} went live at ${liveAt}; calls may already be rated at it, so it cannot be cancelled. Roll back to an earlier revision instead.`,
        { number, liveAt },
      );
    }
    if (target.rateable) {
      const liveAt = new Date(revision.live_at).toISOString();
      throw conflict(
        'revision_live',
        `Revision ${number} goes live at ${liveAt}, within the ${USAGE_CLOCK_SKEW_MS / 60_000} minutes a call may be dated ahead; calls may already be rated at it, so it cannot be cancelled. Roll back to an earlier revision once it is live.`,
        { number, liveAt },
      );
    }
    const latest = await latestRevision(tx, card.id);
    if (latest && latest.number !== number) {
      throw conflict(
        'revision_not_latest',
        `Revision ${latest.number} follows revision ${number}; cancel it first.`,
      );
    }
    await assertCancelGivesNotice(tx, card.id, { number, live_at: revision.live_at });
    // The revisions derived cards got from it, parents first (the order writers lock in),
    // by each card's deepest place below this one, as `rateSetChanged` orders them — not
    // by the chain of revisions followed: a card following this one and a card derived
    // from it names this card's revision (its first parent's), as that card does, and
    // taken first it would be computed again from that card's revision about to go.
    const followers = await tx.execute<{ card_id: string; number: number; depth: number }[]>(
      `with recursive followers as (
         select id, card_id, number, 0 as depth from rate_revision where id = ?
         union all
         select r.id, r.card_id, r.number, f.depth + 1
           from rate_revision r join followers f on r.parent_revision_id = f.id
          where r.cancelled_at is null),
       tree as (
         select card_id as id, 1 as depth from card_parent where parent_id = ?
         union all
         select cp.card_id, tree.depth + 1 from card_parent cp join tree on cp.parent_id = tree.id),
       deepest as (select id, max(depth) as depth from tree group by id)
       select f.card_id, f.number, f.depth
         from followers f left join deepest d on d.id = f.card_id
        order by coalesce(d.depth, 0), f.card_id`,
      [target.id, card.id],
    );
    // The revisions of its owner's own derived cards go with it: each held to its card's
    // notice as the card's own cancel is (another account's card follows a write above
    // whatever its notice). Before anything is withdrawn.
    const derivedIds = followers.filter((f) => f.depth > 0).map((f) => f.card_id);
    const own = derivedIds.length
      ? new Set(
          (
            await tx.execute<{ id: string }[]>(
              'select id from card where id = any(?::uuid[]) and owner_id = ?',
              [`{${derivedIds.join(',')}}`, card.owner.id],
            )
          ).map((row) => row.id),
        )
      : new Set<string>();
    for (const follower of followers) {
      if (follower.depth === 0 || !own.has(follower.card_id)) continue;
      await assertCancelGivesNotice(tx, follower.card_id, {
        number: follower.number,
        live_at: revision.live_at,
      });
    }
    // Derived revisions withdrawn and computed again here: the new one's id by the old's.
    const redone = new Map<string, string>();
    for (const follower of followers) {
      let later: TPendingRevision[] = [];
      if (follower.depth > 0) {
        const held = await tx.execute('select id from card where id = ? for no key update', [
          follower.card_id,
        ]);
        // Deleted while this waited for it: its revisions went with it.
        if (!held.length) continue;
        // Its revisions dated later (for another parent's): withdrawn with it, then
        // computed again without it.
        later = await withdrawLater(tx, follower.card_id, { afterNumber: follower.number });
      }
      await withdrawRevision(tx, follower.card_id, follower.number);
      const followerCard = await tx.findOneOrFail(
        Card,
        { id: follower.card_id },
        { populate: ['owner'] },
      );
      const [owner] = await tx.execute<{ path: string }[]>(
        'select path from account where id = ?',
        [followerCard.owner.id],
      );
      const before = toCardOwnerDto(followerCard);
      followerCard.updatedAt = new Date();
      await tx.flush();
      record(
        cardChange(
          followerCard,
          owner!.path,
          'updated',
          before,
          toCardOwnerDto(followerCard),
          await holdersOf(tx, followerCard.id),
          {
            event: 'revision_cancelled',
            number: follower.number,
            liveAt: new Date(revision.live_at).toISOString(),
          },
        ),
      );
      // Those told it was coming are told it is not.
      await noticeRevisionCancelled(tx, record, followerCard, follower.number, revision.live_at);
      await redoRevisions(tx, followerCard, owner!.path, later, redone, record, {
        ownerFollows: followerCard.owner.id !== card.owner.id,
      });
    }
    // The latest revisions are the earlier ones again: what they lose is checked anew.
    assuranceChanged(
      record,
      carrierIdOf(ownerPath),
      followers.map((follower) => follower.card_id),
    );
  });
}
