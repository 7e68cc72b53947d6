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
