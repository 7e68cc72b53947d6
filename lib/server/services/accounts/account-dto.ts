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
  | 'creditBlocked'
  | 'warningThreshold'
  | 'version'
  | 'createdAt'
  | 'updatedAt'
>;

/**
 * Account DTOs. Status is the *effective* one: an account under a suspended ancestor
 * shows as suspended (DESIGN §1), found for a whole page in one query. Blocked for
 * credit (issue 17) is effective the same way: an account whose own credit is used up
 * blocks everything below it. The set holds the ids on the paths that block: `id` for
 * a suspended account, `credit:id` for one blocked for credit (`creditKey`).
 */
export async function suspendedAncestors(
  em: EntityManager,
  accounts: Pick<TAccount, 'path'>[],
): Promise<Set<string>> {
  const ids = [...new Set(accounts.flatMap((account) => ancestorIds(account.path)))];
  if (ids.length === 0) return new Set();
  const rows = await em.execute<{ id: string; suspended: boolean; credit_blocked: boolean }[]>(
    `select id, status = 'suspended' as suspended, credit_blocked from account
      where (status = 'suspended' or credit_blocked) and id = any(?::uuid[])`,
    [`{${ids.join(',')}}`],
  );
  return new Set(
    rows.flatMap((row) => [
      ...(row.suspended ? [row.id] : []),
      ...(row.credit_blocked ? [creditKey(row.id)] : []),
    ]),
  );
}

/** How a credit-blocked account is named in the blocking set. */
export function creditKey(accountId: string): string {
  return `credit:${accountId}`;
}

/** Blocked for credit: by its own used-up credit, by an account above it, or not. */
export function creditBlock(
  account: Pick<TAccountFields, 'id' | 'path'>,
  blocking: Set<string>,
): 'own' | 'above' | null {
  if (blocking.has(creditKey(account.id))) return 'own';
  return ancestorIds(account.path).some((id) => blocking.has(creditKey(id))) ? 'above' : null;
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
    creditBlock: creditBlock(account, suspended),
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
    warningThreshold: thresholdOf(account),
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
    warningThreshold: thresholdOf(account),
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

function thresholdOf(account: TAccountFields): string | null {
  return account.warningThreshold === null || account.warningThreshold === undefined
    ? null
    : atScale(account.warningThreshold);
}

/** Money columns hold 6 decimals: the same string whether just written or read back. */
const MONEY_SCALE = 6;
export function atScale(value: string): string {
  const [whole, fraction = ''] = String(value).split('.');
  return `${whole}.${fraction.padEnd(MONEY_SCALE, '0').slice(0, MONEY_SCALE)}`;
}
