import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { belowSql } from '@/lib/server/authz/scope';
import { directQuery, pgArray } from '@/lib/server/db/direct-query';
import { mutate } from '@/lib/server/live/change-log';
import type { TAccountBulkStatus, TCustomerDto, TResellerDto } from '@/lib/shared/schemas/accounts';
import { readScopedAccount, type TSubAccountKind } from './account-scope';
import { updateSubAccount } from './update-sub-account';
import { grantFor } from './sub-account-kinds';

/**
 * `POST /resellers/bulk`, `/customers/bulk`: suspend or resume the accounts named, all
 * or nothing. Each goes through the single edit (`updateSubAccount`: the same scope,
 * grant and audit) inside one transaction, so one id out of scope is 404 and rolls every
 * other back. An account already in that status is left as it is (no write, no audit
 * row): repeating the request changes nothing.
 */
export async function setSubAccountsStatus(
  em: EntityManager,
  actor: TActor,
  kind: TSubAccountKind,
  input: TAccountBulkStatus,
): Promise<{ items: (TResellerDto | TCustomerDto)[] }> {
  assertCan(actor, grantFor(kind, 'update'));
  return mutate(em, actor, async (tx) => {
    const ids = [...new Set(input.ids)];
    // Every account named (in scope, of this kind) held in id order before the first is
    // changed — the order a rating batch holds its chains in, so a batch and a bulk wait
    // for each other instead of deadlocking — and each version then read under its lock.
    const scope = belowSql('a.path', actor.account.path);
    await directQuery(
      tx,
      `select a.id from account a where a.id = any(?::uuid[]) and a.kind = ? and ${scope.sql}
        order by a.id for no key update`,
      [pgArray(ids), kind, ...scope.params],
    );
    const items: (TResellerDto | TCustomerDto)[] = [];
    for (const id of ids) {
      const { account } = await readScopedAccount(tx, actor, kind, id, { lock: true });
      items.push(
        await updateSubAccount(tx, actor, kind, id, {
          version: account.version,
          status: input.status,
        }),
      );
    }
    return { items };
  });
}
