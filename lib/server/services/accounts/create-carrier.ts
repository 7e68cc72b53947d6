import type { EntityManager } from '@mikro-orm/postgresql';
import { ALL_GRANTS } from '@/lib/shared/permissions';
import { Account, Group, User, type TAccount, type TUser } from '@/lib/server/entities';
import { hashPassword } from '@/lib/server/auth/password';
import { placeInTree } from './account-tree';
import { mutate, type TChange } from '@/lib/server/live/change-log';
import { toUserDto } from '@/lib/server/services/users/user-access';
import { toGroupDto } from '@/lib/server/services/groups/group-dto';

export interface TCreateCarrierInput {
  name: string;
  adminEmail: string;
  adminPassword: string;
  adminName?: string;
  /** ISO 4217; its accounts below default to it. EUR when not given. */
  currency?: string;
}

/**
 * Creates a carrier (a tenant: a root of the account tree), its administrators group
 * holding every grant, and its first admin. An operations use case, not an API one: it
 * runs at first start and from `npm run carrier:create`, inside the caller's transaction,
 * and logs what it creates like every other write.
 */
export async function createCarrier(
  em: EntityManager,
  input: TCreateCarrierInput,
): Promise<{ carrier: TAccount; admin: TUser }> {
  const passwordHash = await hashPassword(input.adminPassword);
  // No signed-in person: the log names no actor (an operations command).
  return mutate(em, null, async (tx, record) => {
    const carrier = tx.create(Account, {
      ...placeInTree(null),
      kind: 'carrier',
      name: input.name,
      email: input.adminEmail.toLowerCase(),
      currency: input.currency ?? 'EUR',
    });
    const adminGroup = tx.create(Group, {
      id: crypto.randomUUID(),
      account: carrier,
      name: 'Carrier administrators',
      grants: [...ALL_GRANTS],
    });
    const admin = tx.create(User, {
      id: crypto.randomUUID(),
      account: carrier,
      group: adminGroup,
      email: input.adminEmail.toLowerCase(),
      name: input.adminName ?? 'Carrier admin',
      passwordHash,
    });
    await tx.flush();
    record(
      created(
        'carriers',
        carrier.id,
        carrier.version,
        { id: carrier.id, name: carrier.name },
        null,
      ),
    );
    record(
      created(
        'groups',
        adminGroup.id,
        adminGroup.version,
        { ...toGroupDto(adminGroup, 'owner') },
        carrier.path,
      ),
    );
    record(created('users', admin.id, admin.version, { ...toUserDto(admin) }, carrier.path));
    return { carrier, admin };
  });
}

/** A creation as the change log keeps it. */
export function created(
  // Not cards or assignments: they carry audience hints (their own record builders).
  resource: Exclude<TChange['resource'], 'cards' | 'assignments'>,
  entityId: string,
  version: number,
  after: Record<string, unknown>,
  scopeAfter: string | null,
): TChange {
  return {
    resource,
    entityId,
    op: 'created',
    version,
    before: null,
    after,
    scopeBefore: null,
    scopeAfter,
  } as TChange;
}
