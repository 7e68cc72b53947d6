import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import type { TAdjustmentCreate, TPaymentRecorded } from '@/lib/shared/schemas/ledger';
import { recordMovement } from './record-payment';

/**
 * `POST /accounts/{id}/adjustments`: a credit note or a signed adjustment of the
 * account's balance by its parent side, with `adjustments:create` — the same path as a
 * payment (scope, lock, key, live change, credit crossing), its reason kept as the
 * entry's reference. A negative adjustment can block the account for credit.
 */
export async function recordAdjustment(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
  input: TAdjustmentCreate,
): Promise<TPaymentRecorded> {
  return recordMovement(
    em,
    actor,
    unverifiedId,
    {
      kind: input.kind,
      amount: input.amount,
      reference: input.reason,
      idempotencyKey: input.idempotencyKey,
    },
    input.currency,
    'adjustments:create',
  );
}
