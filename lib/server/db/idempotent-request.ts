import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { conflict } from '@/lib/server/errors/domain-error';
import { directQuery } from './direct-query';

/**
 * Idempotency keys of writes that move money and have no row of their own to carry the key
 * (a re-rate, a transfer): a table per write (`usage_rerate_request`,
 * Migration20261215100000; `transfer_request`, Migration20261218300000) keeps, per
 * caller's account and key, a hash of what was asked and the first answer. The key is
 * claimed first in the write's transaction, so a concurrent retry waits for the first to
 * commit and then answers it; a failed attempt leaves no key behind; the key with another
 * request is 409 `idempotency_conflict`.
 */
export type TRequestTable = 'usage_rerate_request' | 'transfer_request';

/** What a request asks, as a hash: `asked` must already be in its canonical form. */
export function requestHash(asked: unknown): string {
  return createHash('sha256').update(JSON.stringify(asked)).digest('hex');
}

/**
 * A request's hash, and the hashes the same request had under an earlier canonical form:
 * a key stored before a canonical form changed still answers its retries (the first is
 * the one stored with a new key).
 */
export type TRequestHashes = string | readonly [string, ...string[]];

const hashesOf = (hash: TRequestHashes): readonly string[] =>
  typeof hash === 'string' ? [hash] : hash;

/** The first answer to the caller's account's `key`; undefined when the key is new. */
export async function firstAnswer<T>(
  em: EntityManager,
  table: TRequestTable,
  actor: TActor,
  key: string,
  hash: TRequestHashes,
): Promise<T | undefined> {
  const [seen] = await directQuery<{ request_hash: string; answer: T | string | null }>(
    em,
    `select request_hash, answer from ${table} where account_id = ? and idempotency_key = ?`,
    [actor.account.id, key],
  );
  // Null only to the transaction that claimed the key (no other sees it uncommitted).
  if (!seen?.answer) return undefined;
  if (!hashesOf(hash).includes(seen.request_hash)) {
    throw conflict(
      'idempotency_conflict',
      'This idempotency key was used for another request; use a new key for a new one.',
      { fields: { idempotencyKey: 'was used for another request' } },
    );
  }
  return typeof seen.answer === 'string' ? (JSON.parse(seen.answer) as T) : seen.answer;
}

/**
 * Runs `work` once for the key, in the caller's transaction: claims the key, runs it and
 * keeps its answer; when another attempt committed the key meanwhile, answers that one
 * (`replayed`) instead — `busy` if it is still running.
 */
export async function onceForKey<T>(
  tx: EntityManager,
  table: TRequestTable,
  actor: TActor,
  key: string,
  hash: TRequestHashes,
  work: () => Promise<T>,
): Promise<{ answer: T; replayed: boolean }> {
  const [claimed] = await directQuery<{ one: number }>(
    tx,
    `insert into ${table} (account_id, idempotency_key, request_hash, answer, user_id, created_at)
     values (?, ?, ?, null, ?, ?)
     on conflict (account_id, idempotency_key) do nothing
     returning 1 as one`,
    [actor.account.id, key, hashesOf(hash)[0], actor.userId, new Date()],
  );
  if (!claimed) {
    const first = await firstAnswer<T>(tx, table, actor, key, hash);
    if (!first) throw conflict('busy', 'Another attempt with this key is running; try again.');
    return { answer: first, replayed: true };
  }
  const answer = await work();
  await directQuery(
    tx,
    `update ${table} set answer = ?::jsonb where account_id = ? and idempotency_key = ?`,
    [JSON.stringify(answer), actor.account.id, key],
  );
  return { answer, replayed: false };
}
