import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import { CardAssignment } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { DomainError } from '@/lib/server/errors/domain-error';
import { mutate } from '@/lib/server/live/change-log';
import type { TAssignmentDto, ZAssignmentBulk } from '@/lib/shared/schemas/cards';
import { createAssignment } from './create-assignment';
import { toAssignmentDto } from './assignment-store';
import { findVisibleCard } from '@/lib/server/services/cards/card-store';
import { belowSql } from '@/lib/server/authz/scope';
import { directQuery, pgArray } from '@/lib/server/db/direct-query';

/**
 * `POST /assignments/bulk`: one card to several accounts, all or nothing. Each goes
 * through `createAssignment` (the same owner, kind, scope and direct-child rules, the
 * same audit) inside one transaction: any refusal refuses the whole request and nothing
 * is written. An account holding the card already keeps it — a repeat is no change —
 * which `createAssignment` says only after the card and the account passed its checks.
 */
export async function bulkAssign(
  em: EntityManager,
  actor: TActor,
  input: z.infer<typeof ZAssignmentBulk>,
): Promise<{ items: TAssignmentDto[] }> {
  assertCan(actor, 'assignments:create');
  return mutate(em, actor, async (tx) => {
    // The card first, then every customer named held shared in id order, before the first
    // is assigned — the order a transfer takes them (card, then customer) and the order a
    // rating batch holds its chains in. Taken one by one as each is reached, a batch with
    // calls of two of them held the second while waiting for the first: deadlock, and one
    // side thrown away. Held to commit, as each assignment would hold it anyway.
    await findVisibleCard(tx, actor, input.cardId, { lock: true });
    const ids = [...new Set(input.accountIds)].sort();
    const scope = belowSql('a.path', actor.account.path);
    await directQuery(
      tx,
      `select a.id from account a
        where a.id = any(?::uuid[]) and a.kind = 'customer' and ${scope.sql}
        order by a.id for share`,
      [pgArray(ids), ...scope.params],
    );
    const items: TAssignmentDto[] = [];
    for (const accountId of new Set(input.accountIds)) {
      try {
        items.push(await createAssignment(tx, actor, { cardId: input.cardId, accountId }));
      } catch (error) {
        if (!(error instanceof DomainError && error.code === 'duplicate')) throw error;
        const held = await tx.findOneOrFail(
          CardAssignment,
          { account: accountId, card: input.cardId },
          { populate: ['card', 'account'] },
        );
        items.push(toAssignmentDto(held));
      }
    }
    return { items };
  });
}
