import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import type { TCustomerDto, TResellerDto } from '@/lib/shared/schemas/accounts';
import { readScopedAccount, type TSubAccountKind } from './account-scope';
import { toAccountDto } from './account-dto';
import { grantFor } from './sub-account-kinds';

export async function getSubAccount(
  em: EntityManager,
  actor: TActor,
  kind: TSubAccountKind,
  unverifiedId: string,
): Promise<TResellerDto | TCustomerDto> {
  assertCan(actor, grantFor(kind, 'read'));
  const { account, suspended, parentName } = await readScopedAccount(em, actor, kind, unverifiedId);
  return toAccountDto(account, suspended, parentName);
}
