import type { TGrant } from '@/lib/shared/permissions';
import type { TActor } from './actor';
import { can } from './can';

export interface TDependant {
  resource: string;
  id: string;
  name: string;
}

/** The grant each kind of dependant is read with (a user's email, a group's name…). */
const READ_GRANTS: Record<string, TGrant> = {
  users: 'users:read',
  groups: 'groups:read',
  cards: 'cards:read',
  assignments: 'assignments:read',
  customers: 'customers:read',
  resellers: 'resellers:read',
  brands: 'brand:read',
  statements: 'statements:read',
  ledger: 'ledger:read',
  usage: 'usage:read',
};

/**
 * What a refusal ("409 has_dependants") may name to `actor`: a dependant of a kind it
 * reads, by id and name; of a kind it may not read, only that there are some (one entry
 * per kind, no id, no name) — a transfer's dry run, repeated at will, would otherwise
 * list the emails of people the caller may not read. Kinds with no read grant listed here
 * name nothing either.
 */
export function dependantsFor(actor: TActor, rows: readonly TDependant[]): TDependant[] {
  const named = rows.filter((row) => {
    const grant = READ_GRANTS[row.resource];
    return grant !== undefined && can(actor, grant);
  });
  const withheld = [...new Set(rows.filter((row) => !named.includes(row)).map((r) => r.resource))];
  return [...named, ...withheld.map((resource) => ({ resource, id: '', name: '' }))];
}
