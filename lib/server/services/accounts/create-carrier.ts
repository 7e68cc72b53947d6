import type { EntityManager } from '@mikro-orm/postgresql';
import { ALL_GRANTS } from '@/lib/shared/permissions';
import { Account, Group, User, type TAccount, type TUser } from '@/lib/server/entities';
import { hashPassword } from '@/lib/server/auth/password';
import { placeInTree } from './account-tree';

export interface TCreateCarrierInput {
  name: string;
  adminEmail: string;
  adminPassword: string;
  adminName?: string;
}

/**
 * Creates a carrier (a tenant: a root of the account tree), its administrators group
 * holding every grant, and its first admin. An operations use case, not an API one: it
 * runs at first start and from `npm run carrier:create`, inside the caller's transaction.
 */
export async function createCarrier(
  em: EntityManager,
  input: TCreateCarrierInput,
): Promise<{ carrier: TAccount; admin: TUser }> {
  const carrier = em.create(Account, {
    ...placeInTree(null),
    kind: 'carrier',
    name: input.name,
    email: input.adminEmail.toLowerCase(),
  });
  const adminGroup = em.create(Group, {
    id: crypto.randomUUID(),
    account: carrier,
    name: 'Carrier administrators',
    grants: [...ALL_GRANTS],
  });
  const admin = em.create(User, {
    id: crypto.randomUUID(),
    account: carrier,
    group: adminGroup,
    email: input.adminEmail.toLowerCase(),
    name: input.adminName ?? 'Carrier admin',
    passwordHash: await hashPassword(input.adminPassword),
  });
  await em.flush();
  return { carrier, admin };
}
