import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { conflict, invalidInput } from '@/lib/server/errors/domain-error';
import {
  USAGE_CLOCK_SKEW_MS,
  type TUsagePosted,
  type TUsageRecordInput,
} from '@/lib/shared/schemas/usage';
import { mutateRating, rateBatch, warmRates } from './rate-batch';
import { databaseClock } from '@/lib/server/db/clock';

/**
 * `POST /usage`: the poster (`usage:create`, the carrier's switch) hands over call
 * records; each is rated at every level of its customer's chain and posted to the
 * ledger, in one transaction for the batch (rate-batch.ts). A customer outside the
 * poster's scope is `unknown_account`, stored like any unrated record and seen only by
 * the poster's side.
 */
export async function postUsage(
  em: EntityManager,
  actor: TActor,
  records: readonly TUsageRecordInput[],
): Promise<TUsagePosted> {
  assertCan(actor, 'usage:create');
  // By the database's clock, as a revision's cancel reads the same allowance
  // (revision-actions.ts): by this process's, a clock ahead would let a call be rated at
  // a revision that can still be cancelled.
  const latest = (await databaseClock(em)).getTime() + USAGE_CLOCK_SKEW_MS;
  const future: Record<string, string> = {};
  records.forEach((item, index) => {
    if (Date.parse(item.startedAt) > latest) {
      future[`records.${index}.startedAt`] = 'is in the future';
    }
  });
  if (Object.keys(future).length) throw invalidInput(future);
  const calls = records.map((item) => ({
    cdrId: item.id,
    // As PostgreSQL writes a uuid: the plan's accounts are found by it (zod takes any case).
    accountId: item.accountId.toLowerCase(),
    number: item.number,
    startedAt: new Date(item.startedAt).toISOString(),
    seconds: item.seconds,
  }));
  try {
    return await mutateRating(
      em,
      actor,
      () => warmRates(em, actor, calls),
      (tx, record) => rateBatch(tx, actor, record, calls, 'new'),
    );
  } catch (error) {
    // Duplicates are found under the accounts' locks, so replays of a batch queue and are
    // answered as duplicates; only the same id sent at the same moment for customers that
    // share no lock meets on the unique key: nothing was written, and a retry reports it.
    if (error instanceof UniqueConstraintViolationException) {
      throw conflict(
        'records_in_flight',
        'Another request stored some of these records at the same moment; nothing was written. Send the batch again: those records will be answered as duplicates (or refused, if that request sent other calls under their ids).',
      );
    }
    throw error;
  }
}
