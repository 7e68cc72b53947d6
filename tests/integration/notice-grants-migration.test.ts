import { describe, expect, it } from 'vitest';
import { Notification } from '@/lib/server/entities';
import { readableNotices } from '@/lib/server/authz/recipients';
import type { TActor } from '@/lib/server/authz/actor';
import { insertRawTree, useDatabaseMigratedTo } from '../fixtures/migrated-database';

/**
 * Migration20261229100000 on notices already written: each takes the grants its kind is
 * read with — also those written before `read_grant` existed (Migration20261223200000
 * left it null) — and a parent's credit notice, which names the account, also the
 * account's read grant; a credit notice names its subject account.
 */
const migrated = useDatabaseMigratedTo('Migration20261228100000');

describe('the notice grants migration', () => {
  it('gives every notice the grants its kind is read with, and credit notices their subject', async () => {
    const carrier = crypto.randomUUID();
    const reseller = crypto.randomUUID();
    const customer = crypto.randomUUID();
    const userOf: Record<string, string> = {};
    const notices = {
      parentCreditOld: crypto.randomUUID(),
      ownCreditOld: crypto.randomUUID(),
      cardOld: crypto.randomUUID(),
      viewedAsOld: crypto.randomUUID(),
      parentCredit: crypto.randomUUID(),
      card: crypto.randomUUID(),
    };
    await migrated.orm.em.fork().transactional(async (tx) => {
      // Rows written as a data fix would be, outside the services (no change-log rows).
      await tx.execute(`set local session_replication_role = replica`);
      await insertRawTree(tx, { carrier, reseller, customers: [customer] });
      for (const account of [reseller, customer]) {
        const group = crypto.randomUUID();
        userOf[account] = crypto.randomUUID();
        await tx.execute(
          `insert into user_group (id, account_id, name, grants, created_at, updated_at)
           values (?, ?, 'g', '{customers:read}'::text[], now(), now())`,
          [group, account],
        );
        await tx.execute(
          `insert into app_user (id, account_id, group_id, email, name, password_hash, created_at, updated_at)
           values (?, ?, ?, ?, 'u', 'x', now(), now())`,
          [userOf[account], account, group, `${userOf[account]}@x.test`],
        );
      }
      const insert = (id: string, account: string, kind: string, grant: string | null) =>
        tx.execute(
          `insert into notification (id, user_id, account_id, kind, title, body, data, read_grant, created_at)
           values (?, ?, ?, ?, 't', 'b', ?::jsonb, ?, now())`,
          [
            id,
            userOf[account],
            account,
            kind,
            JSON.stringify(kind.startsWith('account.') ? { accountId: customer } : { cardId: 'x' }),
            grant,
          ],
        );
      await insert(notices.parentCreditOld, reseller, 'account.credit_warning', null);
      await insert(notices.ownCreditOld, customer, 'account.credit_blocked', null);
      await insert(notices.cardOld, customer, 'card.assigned', null);
      await insert(notices.viewedAsOld, customer, 'user.viewed_as', null);
      await insert(notices.parentCredit, reseller, 'account.credit_warning', 'ledger:read');
      await insert(notices.card, reseller, 'card.assigned', 'cards:read');
    });
    await migrated.orm.getMigrator().up();
    const rows = await migrated.orm.em
      .fork()
      .execute<{ id: string; read_grants: string[]; subject_account_id: string | null }[]>(
        `select id, read_grants, subject_account_id from notification`,
      );
    const after = Object.fromEntries(
      Object.entries(notices).map(([name, id]) => {
        const row = rows.find((one) => one.id === id)!;
        return [name, [[...row.read_grants].sort(), row.subject_account_id]];
      }),
    );
    expect(after).toEqual({
      parentCreditOld: [['customers:read', 'ledger:read'], customer],
      ownCreditOld: [['ledger:read'], customer],
      cardOld: [['cards:read'], null],
      viewedAsOld: [[], null],
      parentCredit: [['customers:read', 'ledger:read'], customer],
      card: [['cards:read'], null],
    });
    // The reseller's person who reads customers but not ledgers is shown no balance.
    const shown = await migrated.orm.em.fork().find(
      Notification,
      readableNotices({
        userId: userOf[reseller],
        grants: new Set(['customers:read']),
        account: { id: reseller, path: `${carrier}/${reseller}/` },
      } as unknown as TActor),
    );
    expect(shown.map((notice) => notice.id)).toEqual([]);
  });
});
