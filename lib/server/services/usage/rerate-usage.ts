import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { withinSql } from '@/lib/server/authz/scope';
import { directQuery, pgArray } from '@/lib/server/db/direct-query';
import { firstAnswer, onceForKey, requestHash } from '@/lib/server/db/idempotent-request';
import { notFound } from '@/lib/server/errors/domain-error';
import type { TChange } from '@/lib/server/live/change-log';
import { readAccountInScope } from '@/lib/server/services/accounts/account-scope';
import {
  USAGE_MAX_RECORDS,
  type TUnratedReason,
  type TUsagePosted,
  type TUsageRerate,
  type TUsageRerated,
} from '@/lib/shared/schemas/usage';
import { mutateRating, rateBatch, warmRates, type TCallToRate } from './rate-batch';
import { fixableSql } from './unrated-reason';

interface TStoredCall {
  id: string;
  cdr_id: string;
  account_id: string;
  number: string;
  started_at: string;
  seconds: number;
  status: 'rated' | 'unrated';
  reason: TUnratedReason | null;
  path: string;
}

/**
 * `POST /usage/rerate`: unrated records in scope rated again, after their card, route or
 * account was fixed — charged now if they can be, else unrated with today's reason (a
 * call from before its customer's transfer: `moved`, on the path it is filed under), each
 * attempt counted on the record (the one change a stored record may take; see
 * Migration20261207100000). The records are locked first, so two re-rates of the same
 * records charge them once: the second finds them rated (answered as duplicates). An id
 * outside scope is 404 and nothing is done.
 *
 * It moves money, so the caller names the attempt (`idempotencyKey`, per the caller's
 * account; Migration20261215100000): a retry answers the first attempt's result
 * (`replayed`) — without it a retried `{all: true}` would rate whatever is unrated by then
 * — and the same key with another request is 409 `idempotency_conflict`. The key is
 * claimed first in the transaction, so a concurrent retry waits for the first to commit
 * and then answers it; a failed attempt leaves no key behind.
 */
export async function rerateUsage(
  em: EntityManager,
  actor: TActor,
  input: TUsageRerate,
): Promise<TUsageRerated> {
  assertCan(actor, 'usage:create');
  const hash = requestHash(asked(input));
  const table = 'usage_rerate_request';
  // A retry of an attempt that committed: answered before warming anything.
  const seen = await firstAnswer<TUsagePosted>(em, table, actor, input.idempotencyKey, hash);
  if (seen) return { ...seen, replayed: true };
  // A call the cards of its start cannot price is priced by them as they stand now
  // (`toCall`): the database's clock, as a revision going live now is dated by, read once
  // for every round.
  const [clock] = await directQuery<{ now: Date }>(em, `select clock_timestamp() as now`);
  const now = new Date(clock!.now).toISOString();
  // The revisions these calls need, read into memory before any lock is taken.
  const warm = async () =>
    warmRates(
      em,
      actor,
      (await select(em, actor, input, false)).map((row) => toCall(row, now)),
    );
  return mutateRating(em, actor, warm, async (tx, record) => {
    // Another attempt with the key may have committed while this one warmed up.
    const { answer, replayed } = await onceForKey(
      tx,
      table,
      actor,
      input.idempotencyKey,
      hash,
      () => rerate(tx, actor, record, input, now),
    );
    return { ...answer, replayed };
  });
}

/** The re-rate itself, under the records' locks. */
async function rerate(
  tx: EntityManager,
  actor: TActor,
  record: (change: TChange) => void,
  input: TUsageRerate,
  now: string,
): Promise<TUsagePosted> {
  const stored = await select(tx, actor, input, true);
  const unrated = stored.filter((row) => row.status === 'unrated');
  const posted = unrated.length
    ? await rateBatch(
        tx,
        actor,
        record,
        unrated.map((row) => toCall(row, now)),
        'rerate',
      )
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
}

/**
 * What a request asks, canonical for its fingerprint: the same records in any order and
 * repeated ids are the same request; `all` with or without the same subtree is another.
 */
function asked(input: TUsageRerate): unknown {
  return 'ids' in input
    ? [
        'ids',
        [...new Set(input.ids)].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0)),
      ]
    : ['all', input.accountId?.toLowerCase() ?? null];
}

/**
 * The records the request names (404 if one is outside scope), or unrated ones in scope,
 * those tried fewest times first, oldest first among them; `lock`: held for this
 * transaction (another re-rate's are skipped).
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
  // Fewest attempts first (each attempt is counted on the record), then oldest: a re-rate
  // that found its USAGE_MAX_RECORDS unfixable moves on to others when pressed again —
  // oldest first alone took the same ones every time, and a call a payment could now
  // charge was never reached. A record another re-rate holds is left to it. A call of a
  // customer's time before its transfer (`moved`), or made while it or an account above it
  // was suspended, stays so for good: not taken again (`fixableSql`).
  return directQuery<TStoredCall>(
    em,
    `select ${COLUMNS} from usage_record r
      where ${RERATABLE_SQL}
        and ${scope.sql} and ${subtree.sql}
      order by r.attempts, r.id limit ? ${lock ? 'for update skip locked' : ''}`,
    [...scope.params, ...subtree.params, USAGE_MAX_RECORDS],
  );
}

/**
 * The records a re-rate takes, of `usage_record r`: unrated for a reason a fix may clear
 * (`moved`, and a call made while suspended, stay so for good: `fixableSql`). Needs
 * attention counts the same.
 */
export const RERATABLE_SQL = fixableSql('r');

/**
 * A stored record as a call to rate, priced by the cards at its start — or, when those
 * cannot price it for a card's trouble (`FIXED_BY_CARDS`), by the cards as they stand at
 * the re-rate (`now`; recorded on it as `usage_record.priced_at`): a revision is never
 * dated in the past, so a route added, a prefix unblocked or a card assigned after the
 * call is not in the cards of its start, and re-rating by those could never charge it.
 */
function toCall(row: TStoredCall, now: string): TCallToRate {
  return {
    cdrId: row.cdr_id,
    accountId: row.account_id,
    number: row.number,
    startedAt: new Date(row.started_at).toISOString(),
    seconds: row.seconds,
    recordId: row.id,
    // Where it is filed: a record of the customer's time under another parent stays there
    // (`moved`), never priced on its chain now (rate-batch.ts).
    path: row.path,
    fixedAt: now,
  };
}

const COLUMNS = `r.id::text as id, r.cdr_id, r.account_id, r.number, r.started_at, r.seconds,
  r.status, r.reason, r.path`;
