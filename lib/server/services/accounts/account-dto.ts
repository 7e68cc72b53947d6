import type { EntityManager } from '@mikro-orm/postgresql';
import type { TAccount } from '@/lib/server/entities';
import type { TCustomerDto, TResellerDto } from '@/lib/shared/schemas/accounts';
import { ancestorIds } from './account-tree';

/**
 * What an account DTO is made of: a managed entity, or the plain record an account's
 * read and versioned edit get straight from their statement (account-scope.ts).
 */
export type TAccountFields = Pick<
  TAccount,
  | 'id'
  | 'kind'
  | 'name'
  | 'email'
  | 'path'
  | 'depth'
  | 'status'
  | 'currency'
  | 'creditLimit'
  | 'balance'
  | 'version'
  | 'createdAt'
  | 'updatedAt'
>;

/**
 * Account DTOs. Status is the *effective* one: an account under a suspended ancestor
 * shows as suspended (DESIGN §1), found for a whole page in one query.
 */
export async function suspendedAncestors(
  em: EntityManager,
  accounts: TAccount[],
): Promise<Set<string>> {
  const ids = [...new Set(accounts.flatMap((account) => ancestorIds(account.path)))];
  if (ids.length === 0) return new Set();
  const rows = await em.execute<{ id: string }[]>(
    `select id from account where status = 'suspended' and id = any(?::uuid[])`,
    [`{${ids.join(',')}}`],
  );
  return new Set(rows.map((row) => row.id));
}

function effectiveStatus(account: TAccountFields, suspended: Set<string>): 'active' | 'suspended' {
  return ancestorIds(account.path).some((id) => suspended.has(id)) ? 'suspended' : 'active';
}

/**
 * The names of the accounts' parents, for a page in one query: the hierarchy column of
 * the lists. A parent of an account in scope is the viewer's own account or in scope.
 */
export async function parentNames(
  em: EntityManager,
  accounts: Pick<TAccount, 'path'>[],
): Promise<Map<string, string>> {
  const ids = [...new Set(accounts.map((account) => ancestorIds(account.path).at(-2)!))];
  if (ids.length === 0) return new Map();
  const rows = await em.execute<{ id: string; name: string }[]>(
    `select id, name from account where id = any(?::uuid[])`,
    [`{${ids.join(',')}}`],
  );
  return new Map(rows.map((row) => [row.id, row.name]));
}

/** The parent's name out of `parentNames`' answer. */
export function parentNameOf(account: Pick<TAccount, 'path'>, names: Map<string, string>): string {
  return names.get(ancestorIds(account.path).at(-2)!) ?? '';
}

/** What resellers and customers share: meta, identity, place and effective status. */
function common(account: TAccountFields, suspended: Set<string>, parentName: string) {
  const ids = ancestorIds(account.path);
  return {
    id: account.id,
    version: account.version,
    createdAt: account.createdAt.toISOString(),
    updatedAt: account.updatedAt.toISOString(),
    name: account.name,
    email: account.email ?? null,
    parentId: ids[ids.length - 2]!,
    parentName,
    status: effectiveStatus(account, suspended),
    currency: account.currency,
  };
}

export function toResellerDto(
  account: TAccountFields,
  suspended: Set<string>,
  parentName: string,
): TResellerDto {
  return {
    ...common(account, suspended, parentName),
    depth: account.depth,
    creditLimit: creditLimitOf(account),
    balance: atScale(account.balance),
  };
}

export function toCustomerDto(
  account: TAccountFields,
  suspended: Set<string>,
  parentName: string,
): TCustomerDto {
  return {
    ...common(account, suspended, parentName),
    creditLimit: creditLimitOf(account),
    balance: atScale(account.balance),
  };
}

export function toAccountDto(
  account: TAccountFields,
  suspended: Set<string>,
  parentName: string,
): TResellerDto | TCustomerDto {
  return account.kind === 'customer'
    ? toCustomerDto(account, suspended, parentName)
    : toResellerDto(account, suspended, parentName);
}

function creditLimitOf(account: TAccountFields): string | null {
  return account.creditLimit === null || account.creditLimit === undefined
    ? null
    : atScale(account.creditLimit);
}

/** Money columns hold 6 decimals: the same string whether just written or read back. */
const MONEY_SCALE = 6;
export function atScale(value: string): string {
  const [whole, fraction = ''] = String(value).split('.');
  return `${whole}.${fraction.padEnd(MONEY_SCALE, '0').slice(0, MONEY_SCALE)}`;
}
