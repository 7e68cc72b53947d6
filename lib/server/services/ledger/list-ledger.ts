import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan, can } from '@/lib/server/authz/can';
import { nameActor } from '@/lib/server/authz/actor-name';
import { directQuery } from '@/lib/server/db/direct-query';
import { invalidInput } from '@/lib/server/errors/domain-error';
import type { TPage } from '@/lib/shared/schemas/common';
import {
  LEDGER_CSV_COLUMNS,
  type TBalanceDto,
  type TLedgerEntryDto,
  type TLedgerExportQuery,
  type TLedgerQuery,
} from '@/lib/shared/schemas/ledger';
import { csvStream, type TDownload } from '@/lib/server/services/csv';
import { windowSql } from '@/lib/server/services/paging';
import { booksSql } from '@/lib/server/authz/scope';
import { readAccountInScope } from '@/lib/server/services/accounts/account-scope';
import { atScale, suspendedAncestors } from '@/lib/server/services/accounts/account-dto';
import { toBalanceDto, type TLedgerRow } from './ledger-store';

/**
 * `GET /accounts/{id}/ledger`: an account's movements, newest first, for its own side
 * and the accounts above it (`ledger:read`); a sibling or anything else outside is 404.
 * Above it, only what moved on the viewer's books or below (`booksSql`): a customer's
 * new parent after a transfer does not read its time under the old one.
 * Paged by the entry id (the cursor is the last id seen).
 */
export async function listLedger(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
  query: TLedgerQuery,
): Promise<TPage<TLedgerEntryDto>> {
  assertCan(actor, 'ledger:read');
  const { account } = await readAccountInScope(em, actor, unverifiedId, { within: true });
  const before = query.cursor ? query.cursor : null;
  if (before !== null && !/^[1-9]\d{0,17}$/.test(before)) {
    throw invalidInput({ cursor: 'is not a cursor this API gave out' });
  }
  const { filters, params } = ledgerFilter(actor, account.id, query);
  if (before !== null) {
    filters.push('id < ?::bigint');
    params.push(before);
  }
  const rows = await directQuery<TLedgerRow>(
    em,
    `select * from ledger_entry where ${filters.join(' and ')} order by id desc limit ?`,
    [...params, query.limit + 1],
  );
  const items = await ledgerEntryDtos(em, actor, rows.slice(0, query.limit));
  return {
    items,
    nextCursor: rows.length > query.limit ? items.at(-1)!.id : null,
  };
}

/**
 * `GET /accounts/{id}/ledger/export`: the same entries as the list with its filters, as
 * CSV, oldest first (a statement a spreadsheet sums from the top). Scope is decided before
 * the first byte and again for every batch (an account moved out of scope mid-download
 * ends it). The last entry is fixed when the export begins: a movement recorded while a
 * slow client reads belongs to the next download, not half of this one.
 */
export async function exportLedger(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
  query: TLedgerExportQuery,
  download: TDownload,
): Promise<{ filename: string; stream: ReadableStream<Uint8Array> }> {
  assertCan(actor, 'ledger:read');
  const { account } = await readAccountInScope(em, actor, unverifiedId, { within: true });
  const { filters, params } = ledgerFilter(actor, account.id, query);
  const [ceiling] = await directQuery<{ last: string | null }>(
    em,
    `select max(id)::text as last from ledger_entry where ${filters.join(' and ')}`,
    params,
  );
  let after = '0';
  const last = ceiling?.last ?? '0';
  const stream = csvStream(
    LEDGER_CSV_COLUMNS,
    async () => {
      if (after === last) return null;
      // A context per batch: the request's would hold every entry read until the end.
      const batch = em.fork();
      await readAccountInScope(batch, actor, account.id, { within: true });
      const rows = await directQuery<TLedgerRow>(
        batch,
        `select * from ledger_entry where ${filters.join(' and ')}
          and id > ?::bigint and id <= ?::bigint order by id limit ?`,
        [...params, after, last, download.batch ?? EXPORT_BATCH],
      );
      if (!rows.length) return null;
      after = String(rows.at(-1)!.id);
      return (await ledgerEntryDtos(batch, actor, rows)).map((entry) => ({
        ...entry,
        by: entry.by.kind === 'user' ? entry.by.email : entry.by.name,
      }));
    },
    download.stillAllowed,
  );
  // Named for people who may read the account (its own, or a reader of its kind); for a
  // reader of ledgers alone, by id, as the usage summary names such accounts.
  const named =
    account.id === actor.account.id ||
    can(actor, account.kind === 'reseller' ? 'resellers:read' : 'customers:read');
  const label = named ? account.name : account.id;
  const safeName = label.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80) || 'ledger';
  return { filename: `${safeName}-ledger.csv`, stream };
}

const EXPORT_BATCH = 500;

/**
 * The entries of one account a viewer may read, with the list's filters: its own side
 * and, above it, only what moved on the viewer's books or below (`booksSql`).
 */
function ledgerFilter(
  actor: TActor,
  accountId: string,
  query: TLedgerExportQuery,
): { filters: string[]; params: unknown[] } {
  const books = booksSql(actor.account, 'account_id', 'counterparty_id');
  const filters = ['account_id = ?', books.sql];
  const params: unknown[] = [accountId, ...books.params];
  if (query.kind) {
    filters.push('kind = ?');
    params.push(query.kind);
  }
  const window = windowSql('created_at', query);
  return { filters: [...filters, ...window.conditions], params: [...params, ...window.params] };
}

/** `GET /accounts/{id}/balance`: as kept with the ledger, for its own side and above. */
export async function readBalance(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
): Promise<TBalanceDto> {
  assertCan(actor, 'ledger:read');
  const { account } = await readAccountInScope(em, actor, unverifiedId, { within: true });
  return toBalanceDto(account, await suspendedAncestors(em, [account]));
}

/**
 * Entries as the viewer sees them: who recorded each is named only to a viewer who may
 * read that user (the audit's rule), else the acting account's name.
 */
export async function ledgerEntryDtos(
  em: EntityManager,
  viewer: TActor,
  rows: TLedgerRow[],
): Promise<TLedgerEntryDto[]> {
  const userIds = [...new Set(rows.map((row) => row.actor_user_id).filter(Boolean))];
  const accountIds = [...new Set(rows.map((row) => row.actor_account_id).filter(Boolean))];
  const users = userIds.length
    ? await directQuery<{ id: string; name: string; email: string; path: string }>(
        em,
        `select u.id, u.name, u.email, a.path from app_user u join account a on a.id = u.account_id
          where u.id = any(?::uuid[])`,
        [`{${userIds.join(',')}}`],
      )
    : [];
  const accounts = accountIds.length
    ? await directQuery<{ id: string; name: string; path: string }>(
        em,
        `select id, name, path from account where id = any(?::uuid[])`,
        [`{${accountIds.join(',')}}`],
      )
    : [];
  const userById = new Map(users.map((user) => [user.id, user]));
  const accountById = new Map(accounts.map((account) => [account.id, account]));
  return rows.map((row) => {
    const user = row.actor_user_id ? userById.get(row.actor_user_id) : undefined;
    const acting = row.actor_account_id ? accountById.get(row.actor_account_id) : undefined;
    return {
      id: String(row.id),
      accountId: row.account_id,
      counterpartyId: row.counterparty_id,
      kind: row.kind,
      amount: atScale(row.amount),
      currency: row.currency,
      balanceAfter: atScale(row.balance_after),
      reference: row.reference,
      by: nameActor(viewer, {
        userId: user?.id ?? null,
        name: user?.name ?? null,
        email: user?.email ?? null,
        userPath: user?.path ?? null,
        accountName: acting?.name ?? null,
        accountPath: acting?.path ?? null,
      }),
      createdAt: new Date(row.created_at).toISOString(),
    };
  });
}
