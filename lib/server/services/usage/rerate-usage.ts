import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { withinSql } from '@/lib/server/authz/scope';
import { directQuery, pgArray } from '@/lib/server/db/direct-query';
import { notFound } from '@/lib/server/errors/domain-error';
import { mutate } from '@/lib/server/live/change-log';
import { readAccountInScope } from '@/lib/server/services/accounts/account-scope';
import {
  USAGE_MAX_RECORDS,
  type TUnratedReason,
  type TUsagePosted,
  type TUsageRerate,
} from '@/lib/shared/schemas/usage';
import { rateBatch, warmRates, type TCallToRate } from './rate-batch';

interface TStoredCall {
  id: string;
  cdr_id: string;
  account_id: string;
  number: string;
  started_at: string;
  seconds: number;
  status: 'rated' | 'unrated';
  reason: TUnratedReason | null;
}

/**
 * `POST /usage/rerate`: unrated records in scope rated again, after their card, route or
 * account was fixed — charged now if they can be, else unrated with today's reason, each
 * attempt counted on the record (the one change a stored record may take; see
 * Migration20261207100000). The records are locked first, so two re-rates of the same
 * records charge them once: the second finds them rated (answered as duplicates). An id
 * outside scope is 404 and nothing is done.
 */
export async function rerateUsage(
  em: EntityManager,
  actor: TActor,
  input: TUsageRerate,
): Promise<TUsagePosted> {
  assertCan(actor, 'usage:create');
  // The revisions these calls need, read into memory before any lock is taken.
  await warmRates(em, actor, (await select(em, actor, input, false)).map(toCall));
  return mutate(em, actor, async (tx, record) => {
    const stored = await select(tx, actor, input, true);
    const unrated = stored.filter((row) => row.status === 'unrated');
    const posted = unrated.length
      ? await rateBatch(tx, actor, record, unrated.map(toCall), 'rerate')
      : {
          batchId: crypto.randomUUID(),
          rated: 0,
          unrated: 0,
          unratedByReason: {},
          duplicates: 0,
          records: [],
        };
    // Rated already (by an earlier re-rate): nothing to do, counted as duplicates.
    const already = stored.filter((row) => row.status === 'rated');
    return {
      ...posted,
      duplicates: posted.duplicates + already.length,
      records: [
        ...posted.records,
        ...already.map((row) => ({
          id: row.cdr_id,
          outcome: 'duplicate' as const,
          reason: null,
          recordId: row.id,
        })),
      ],
    };
  });
}

/**
 * The records the request names (404 if one is outside scope), or the oldest unrated ones
 * in scope; `lock`: held for this transaction (another re-rate's are skipped).
 */
async function select(
  em: EntityManager,
  actor: TActor,
  input: TUsageRerate,
  lock: boolean,
): Promise<TStoredCall[]> {
  const scope = withinSql('r.path', actor.account.path);
  if ('ids' in input) {
    const ids = [...new Set(input.ids)];
    const stored = await directQuery<TStoredCall>(
      em,
      `select ${COLUMNS} from usage_record r
        where r.id = any(?::bigint[]) and ${scope.sql} order by r.id ${lock ? 'for update' : ''}`,
      [pgArray(ids), ...scope.params],
    );
    if (stored.length !== ids.length) throw notFound('usage record');
    return stored;
  }
  const subtree = input.accountId
    ? withinSql(
        'r.path',
        (await readAccountInScope(em, actor, input.accountId, { within: true })).account.path,
      )
    : { sql: 'true', params: [] };
  // Oldest first; a record another re-rate holds is left to it.
  return directQuery<TStoredCall>(
    em,
    `select ${COLUMNS} from usage_record r
      where r.status = 'unrated' and ${scope.sql} and ${subtree.sql}
      order by r.id limit ? ${lock ? 'for update skip locked' : ''}`,
    [...scope.params, ...subtree.params, USAGE_MAX_RECORDS],
  );
}

function toCall(row: TStoredCall): TCallToRate {
  return {
    cdrId: row.cdr_id,
    accountId: row.account_id,
    number: row.number,
    startedAt: new Date(row.started_at).toISOString(),
    seconds: row.seconds,
    recordId: row.id,
  };
}

const COLUMNS = `r.id::text as id, r.cdr_id, r.account_id, r.number, r.started_at, r.seconds,
  r.status, r.reason`;
