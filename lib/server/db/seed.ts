import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { DEFAULT_RESELLER_GRANTS, GROUP_TEMPLATES } from '@/lib/shared/permissions';
import { Account, Group, type TAccount } from '@/lib/server/entities';
import { createCarrier, created } from '@/lib/server/services/accounts/create-carrier';
import { mutate } from '@/lib/server/live/change-log';
import { toGroupDto } from '@/lib/server/services/groups/group-dto';
import { toAccountDto } from '@/lib/server/services/accounts/account-dto';
import { accountScopePath } from '@/lib/server/authz/scope';
import { placeInTree } from '@/lib/server/services/accounts/account-tree';
import { addDemoCards } from './seed-cards';

export type TSeedResult =
  { seeded: false } | { seeded: true; demo: boolean; adminEmail: string; adminPassword?: string };

export const DEMO_ADMIN_EMAIL = 'admin@demo-carrier.test';

/**
 * First-start data. Runs under the migration lock, so two processes seed once; an
 * existing carrier means "already seeded" and nothing is touched, ever.
 * - demo (embedded database): a demo carrier with resellers and customers; the admin
 *   login comes from ADMIN_EMAIL/ADMIN_PASSWORD or is generated and returned to print.
 * - production (DATABASE_URL): only the first carrier and its admin, nothing printed.
 */
export async function seedIfEmpty(
  em: EntityManager,
  options: { demo: boolean; adminEmail?: string; adminPassword?: string },
): Promise<TSeedResult> {
  if ((await em.count(Account, { kind: 'carrier' })) > 0) return { seeded: false };

  if (!options.demo && (!options.adminEmail || !options.adminPassword)) {
    throw new Error('ADMIN_EMAIL and ADMIN_PASSWORD are required to create the first carrier.');
  }
  const adminEmail = options.adminEmail ?? DEMO_ADMIN_EMAIL;
  const generated = options.adminPassword ? undefined : randomBytes(12).toString('base64url');
  const adminPassword = options.adminPassword ?? generated!;

  await em.transactional(async (tx) => {
    const { carrier } = await createCarrier(tx, {
      name: options.demo ? 'Demo Carrier' : 'Carrier',
      adminEmail,
      adminPassword,
    });
    if (options.demo) await addDemoTree(tx, carrier);
  });

  return { seeded: true, demo: options.demo, adminEmail, adminPassword: generated };
}

/**
 * Resellers two levels deep, customers at every level, the Default Reseller group, and
 * rate cards (lib/server/db/seed-cards.ts).
 */
async function addDemoTree(em: EntityManager, carrier: TAccount): Promise<void> {
  await mutate(em, null, async (tx, record) => {
    const group = tx.create(Group, {
      id: crypto.randomUUID(),
      account: carrier,
      name: GROUP_TEMPLATES['default-reseller'].name,
      grants: [...DEFAULT_RESELLER_GRANTS],
      template: 'default-reseller',
    });
    await tx.flush();
    record(
      created('groups', group.id, group.version, { ...toGroupDto(group, 'owner') }, carrier.path),
    );
    // One flush per account: a parent must exist before the tree check accepts its child.
    const child = async (
      parent: TAccount,
      kind: 'reseller' | 'customer',
      name: string,
      email: string,
    ) => {
      const account = tx.create(Account, {
        ...placeInTree(parent),
        parent,
        kind,
        name,
        email,
        currency: parent.currency,
        creditLimit: kind === 'customer' ? '500.000000' : null,
      });
      await tx.flush();
      const dto = toAccountDto(account, new Set(), parent.name);
      record(
        created(`${kind}s`, account.id, account.version, { ...dto }, accountScopePath(account)),
      );
      return account;
    };

    const acme = await child(carrier, 'reseller', 'Acme Voice', 'ops@acme-voice.test');
    const acmeEast = await child(acme, 'reseller', 'Acme East', 'east@acme-voice.test');
    const blue = await child(carrier, 'reseller', 'Blue Telecom', 'noc@bluetel.test');
    const direct = await child(carrier, 'customer', 'Direct Logistics', 'it@direct-logistics.test');
    const hotel = await child(acme, 'customer', 'Hotel Alpine', 'frontdesk@hotel-alpine.test');
    const clinic = await child(acme, 'customer', 'Clinic Borealis', 'admin@clinic-borealis.test');
    const taxis = await child(acmeEast, 'customer', 'Harbour Taxis', 'dispatch@harbour-taxis.test');
    const grocers = await child(blue, 'customer', 'Green Grocers', 'office@green-grocers.test');
    await addDemoCards(tx, record, carrier, {
      acme,
      acmeEast,
      blue,
      direct,
      hotel,
      clinic,
      taxis,
      grocers,
    });
  });
}
