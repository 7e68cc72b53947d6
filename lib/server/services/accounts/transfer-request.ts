import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { directQuery } from '@/lib/server/db/direct-query';
import { conflict } from '@/lib/server/errors/domain-error';
import type { TCustomerDto } from '@/lib/shared/schemas/accounts';
import type { TTransfer } from '@/lib/shared/schemas/cards';

/**
 * A transfer's idempotency key (Migration20261218300000), kept per caller's account: the
 * first answer is replayed to a retry; the key with another request is 409
 * `idempotency_conflict`. The key is claimed first in the transfer's transaction, so a
 * concurrent retry waits for the first to commit and then answers it; a failed attempt
 * leaves no key behind.
 */
export function transferHash(customerId: string, input: TTransfer): string {
  const asked = [
    customerId.toLowerCase(),
    input.toParentId.toLowerCase(),
    input.cardId.toLowerCase(),
    input.rate?.trim() ?? null,
    input.balance ?? 'keep',
  ];
  return createHash('sha256').update(JSON.stringify(asked)).digest('hex');
}

/** The first answer to the caller's account's `key`; undefined when the key is new. */
export async function firstTransferAnswer(
  em: EntityManager,
  actor: TActor,
  key: string,
  hash: string,
): Promise<TCustomerDto | undefined> {
  const [seen] = await directQuery<{ request_hash: string; answer: TCustomerDto | string | null }>(
    em,
    `select request_hash, answer from transfer_request where account_id = ? and idempotency_key = ?`,
    [actor.account.id, key],
  );
  // Null only to the transaction that claimed the key (no other sees it uncommitted).
  if (!seen?.answer) return undefined;
  if (seen.request_hash !== hash) {
    throw conflict(
      'idempotency_conflict',
      'This idempotency key was used for another transfer; use a new key for a new one.',
      { fields: { idempotencyKey: 'was used for another request' } },
    );
  }
  return typeof seen.answer === 'string' ? JSON.parse(seen.answer) : seen.answer;
}

/** Claims `key` in the transaction; false when another attempt holds or held it. */
export async function claimTransferKey(
  tx: EntityManager,
  actor: TActor,
  key: string,
  hash: string,
): Promise<boolean> {
  const [claimed] = await directQuery<{ one: number }>(
    tx,
    `insert into transfer_request (account_id, idempotency_key, request_hash, answer, user_id, created_at)
     values (?, ?, ?, null, ?, ?)
     on conflict (account_id, idempotency_key) do nothing
     returning 1 as one`,
    [actor.account.id, key, hash, actor.userId, new Date()],
  );
  return Boolean(claimed);
}

export async function saveTransferAnswer(
  tx: EntityManager,
  actor: TActor,
  key: string,
  answer: TCustomerDto,
): Promise<void> {
  await directQuery(
    tx,
    `update transfer_request set answer = ?::jsonb where account_id = ? and idempotency_key = ?`,
    [JSON.stringify(answer), actor.account.id, key],
  );
}
