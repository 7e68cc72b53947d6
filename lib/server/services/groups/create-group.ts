import type { EntityManager } from '@mikro-orm/postgresql';
import { Account, Group } from '@/lib/server/entities';
import { ownerLock } from '@/lib/server/services/accounts/account-scope';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { scopeFor } from '@/lib/server/authz/scope';
import { notFound } from '@/lib/server/errors/domain-error';
import { mutate } from '@/lib/server/live/change-log';
import { GROUP_TEMPLATES, type TGrant } from '@/lib/shared/permissions';
import { firstFreeName } from '@/lib/shared/group-names';
import type { TGroupCreate, TGroupDto } from '@/lib/shared/schemas/groups';
import { assertNoEscalation } from './no-escalation';
import { toGroupDto } from './group-dto';

/**
 * A new group owned by the actor's account (or an account under it), from explicit
 * grants or from a template (Default Reseller, Default Customer). Never more than the
 * actor holds. A customer account may own groups too (its people's, issue 19).
 */
export async function createGroup(
  em: EntityManager,
  actor: TActor,
  input: TGroupCreate,
): Promise<TGroupDto> {
  assertCan(actor, 'groups:create');
  const template = 'template' in input ? GROUP_TEMPLATES[input.template] : null;
  const grants: TGrant[] = template ? [...template.grants] : (input as { grants: TGrant[] }).grants;
  assertNoEscalation(actor, grants);
  return mutate(em, actor, async (tx, record) => {
    const owner = await tx.findOne(
      Account,
      { $and: [scopeFor(actor, 'account'), { id: input.accountId ?? actor.account.id }] },
      { lockMode: ownerLock },
    );
    if (!owner) throw notFound('account');
    // A name made here ("Default Customer (2)") is chosen one creator at a time per
    // account: two at once read the same names taken, picked the same one, and the second
    // met the unique key — a 409 naming a `name` it never sent.
    if (input.name === undefined) {
      await tx.execute(`select pg_advisory_xact_lock(hashtext('group-names:' || ?))`, [owner.id]);
    }
    const group = tx.create(Group, {
      id: crypto.randomUUID(),
      account: owner,
      name: input.name ?? (await freeName(tx, owner.id, template!.name)),
      grants,
      template: 'template' in input ? input.template : null,
      requireMfa: input.requireMfa,
    });
    await tx.flush();
    const dto = toGroupDto(group, 'owner') as TGroupDto;
    record({
      resource: 'groups',
      entityId: group.id,
      op: 'created',
      version: group.version,
      before: null,
      after: { ...dto },
      scopeBefore: null,
      scopeAfter: owner.path,
    });
    return dto;
  });
}

/** "Default Reseller", or "Default Reseller (2)" … when an earlier one keeps the name. */
async function freeName(em: EntityManager, accountId: string, base: string): Promise<string> {
  const taken = new Set(
    (await em.find(Group, { account: accountId, name: { $like: `${base}%` } })).map(
      (group) => group.name,
    ),
  );
  return firstFreeName(base, taken);
}
