import { dependantsFor } from '@/lib/server/authz/dependants';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { accountScopePath, booksSql } from '@/lib/server/authz/scope';
import { conflict } from '@/lib/server/errors/domain-error';
import { mutate } from '@/lib/server/live/change-log';
import { findScopedAccount, type TSubAccountKind } from './account-scope';
import { toAccountDto } from './account-dto';
import { grantFor, SUB_ACCOUNT } from './sub-account-kinds';
import { removeBrandOf } from '@/lib/server/services/brands/brands';
import { invalidatePortalHostnames } from '@/lib/server/services/brands/portal-hostnames';
import { fixableSql } from '@/lib/server/services/usage/unrated-reason';

/**
 * Deletes a reseller or customer that nothing depends on. Sub-accounts, users, groups,
 * cards it owns, cards assigned to it, its ledger and its statements (both kept) block it — its
 * own entries and those it is the counterparty of (a customer that moved away keeps its
 * old parent on its books) — and so do its calls still waiting to be rated: 409 listing
 * them (the first 20), never a cascade. Its own brand goes with it, recorded as its own
 * delete would be (`removeBrandOf`).
 */
export async function deleteSubAccount(
  em: EntityManager,
  actor: TActor,
  kind: TSubAccountKind,
  unverifiedId: string,
): Promise<void> {
  assertCan(actor, grantFor(kind, 'delete'));
  await mutate(em, actor, async (tx, record) => {
    // Locked before its dependants are looked for: a rating batch holding the account
    // (its calls stored unrated, not committed yet) is waited for, and its records found.
    const { account, suspended, parentName } = await findScopedAccount(
      tx,
      actor,
      kind,
      unverifiedId,
      { lock: true },
    );
    // Qualified: inside `booksSql`'s subquery a bare `parent_id` is the account's own.
    const books = booksSql(actor.account, 'st.account_id', 'st.parent_id');
    const dependants = await tx.execute<{ resource: string; id: string; name: string }[]>(
      `(select case kind when 'customer' then 'customers' else 'resellers' end as resource, id, name
          from account where parent_id = ? limit 20)
       union all (select 'users', id, email from app_user where account_id = ? limit 20)
       union all (select 'groups', id, name from user_group where account_id = ? limit 20)
       union all (select 'cards', id, name from card where owner_id = ? limit 20)
       union all (select 'assignments', ca.id, c.name from card_assignment ca
                    join card c on c.id = ca.card_id where ca.account_id = ? limit 20)
       union all (select 'ledger', ?, 'ledger entries' from ledger_entry
                   where account_id = ? or counterparty_id = ? limit 1)
       union all (select 'statements', st.id, 'statement ' || st.number from statement st
                   where (st.account_id = ? or st.parent_id = ?) and ${books.sql} limit 20)
       union all (select 'statements', ?, 'statements issued by an earlier parent'
                    from statement st
                   where (st.account_id = ? or st.parent_id = ?) and not ${books.sql} limit 1)
       union all (select 'usage', ?, 'unrated call records' from usage_record u
                   where ${fixableSql('u')} and path = ? and account_id = ? limit 1)`,
      [
        account.id,
        account.id,
        account.id,
        account.id,
        account.id,
        account.id,
        account.id,
        account.id,
        account.id,
        // Statements it issued as a parent: read from above by it (`booksSql`).
        account.id,
        ...books.params,
        // Those its parent before a transfer issued block it too, unnamed: the actor may
        // not read them (a new parent learns nothing of the old one's statements).
        account.id,
        account.id,
        account.id,
        ...books.params,
        // Calls waiting for a card or a fix, filed under it where it is: once it is gone
        // a re-rate reads `unknown_account` and the calls are never billed. (Those it
        // left behind when it moved, `moved` or filed under its old path, cannot be
        // rated again anyway: usage/rate-batch.ts.)
        account.id,
        account.path,
        account.id,
      ],
    );
    if (dependants.length) {
      throw conflict(
        'has_dependants',
        `This ${kind} still has accounts, users, groups, cards, ledger entries, statements or unrated calls.`,
        {
          dependants: dependantsFor(actor, dependants.slice(0, 20)),
        },
      );
    }
    const before = toAccountDto(account, suspended, parentName);
    await removeBrandOf(tx, record, account);
    tx.remove(account);
    record({
      resource: SUB_ACCOUNT[kind].resource,
      entityId: account.id,
      op: 'deleted',
      version: account.version,
      before: { ...before },
      after: null,
      scopeBefore: accountScopePath(account),
      scopeAfter: null,
    });
  }).finally(invalidatePortalHostnames);
}
