import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
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
    const items: (TResellerDto | TCustomerDto)[] = [];
    for (const id of new Set(input.ids)) {
      const { account } = await readScopedAccount(tx, actor, kind, id);
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
