import { dependantsFor } from '@/lib/server/authz/dependants';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { conflict } from '@/lib/server/errors/domain-error';
import { mutate } from '@/lib/server/live/change-log';
import { assertOwnerSide, cardChange, findVisibleCard, toCardOwnerDto } from './card-store';
import { noticeHoursSql } from '@/lib/server/services/rates/revisions';

/**
 * `DELETE /cards/{id}`: only a card nothing depends on (DESIGN §1 "card lifecycle"):
 * derived cards, assignments and cards whose margin check compares with it
 * (`compareWith`: deleted, the check would drop it and a losing card show no loss) block
 * it, 409 listing them (the first 20 of each).
 */
export async function deleteCard(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
): Promise<void> {
  assertCan(actor, 'cards:delete');
  await mutate(em, actor, async (tx, record) => {
    const { card, relation, ownerPath } = await findVisibleCard(tx, actor, unverifiedId, {
      lock: 'delete',
    });
    assertOwnerSide(relation, 'deletes it');
    const dependants = await tx.execute<{ resource: string; id: string; name: string }[]>(
      `(select 'cards' as resource, c.id, c.name from card_parent cp join card c on c.id = cp.card_id
         where cp.parent_id = ? order by c.name limit 20)
       union all
       (select 'assignments', ca.id, a.name from card_assignment ca join account a on a.id = ca.account_id
         where ca.card_id = ? order by a.name limit 20)
       union all
       (select 'cards', c.id, c.name from card c join account co on co.id = c.owner_id
         where c.compare_with @> jsonb_build_array(?::text) and starts_with(?, co.path)
         order by c.name limit 20)`,
      // Only a comparing card whose owner still sees this one (owned at or below it; one
      // held by assignment is blocked by the assignment): a comparison the owner lost
      // is already dropped by the check, and must not make a card undeletable.
      [card.id, card.id, card.id, ownerPath],
    );
    if (dependants.length) {
      throw conflict(
        'has_dependants',
        'Cards derived from this card, cards whose margin check compares with it, or assignments of it exist; remove them first.',
        { dependants: dependantsFor(actor, dependants) },
      );
    }
    // A customer that held it within its notice is owed that notice on the card it gets
    // next (create-assignment.ts `assertNoticeOfCardsHeld`), which reads it from here: its
    // spans go with it, so it waits until the notice has passed.
    const [owed] = await tx.execute<{ until: Date }[]>(
      `select max(s.to_at) + n.hours * interval '1 hour' as until
         from customer_card_span s
         cross join lateral (
           select ${noticeHoursSql('c')} as hours from card c where c.id = s.card_id) n
        where s.card_id = ? and n.hours > 0 and s.to_at > now() - n.hours * interval '1 hour'
        group by n.hours`,
      [card.id],
    );
    if (owed) {
      throw conflict(
        'notice_binds',
        `A customer held ${card.name} within its notice of increases: the card it holds now is held to that notice until ${new Date(owed.until).toISOString()}; delete it after then.`,
        { until: new Date(owed.until).toISOString() },
      );
    }
    const before = toCardOwnerDto(card);
    // Its history goes with it (its revisions by their foreign key); the revisions of
    // cards that once followed it stay, with their own rows (Migration20261219100000).
    await tx.execute('delete from rate_history where card_id = ?', [card.id]);
    tx.remove(card);
    record(cardChange(card, ownerPath, 'deleted', before, null, []));
  });
}
