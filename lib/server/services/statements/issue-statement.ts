import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { ancestorPrefixes } from '@/lib/server/authz/scope';
import { databaseClock } from '@/lib/server/db/clock';
import { directQuery } from '@/lib/server/db/direct-query';
import { conflict, type DomainError } from '@/lib/server/errors/domain-error';
import { mutate } from '@/lib/server/live/change-log';
import { readAccountInScope } from '@/lib/server/services/accounts/account-scope';
import { effectiveBrand } from '@/lib/server/services/brands/brands';
import type {
  TStatementCreate,
  TStatementDto,
  TStatementIssuer,
} from '@/lib/shared/schemas/statements';
import { STATEMENT_COLUMNS, toStatementDto, type TStatementRow } from './statement-dto';
import { statementFigures } from './statement-figures';
import { renderStatementPdf } from './statement-pdf';
import { monthOf } from './statement-period';

/**
 * `POST /accounts/{id}/statements`: the account's statement for a month, issued by the
 * side above it (`statements:create`, an account strictly below the actor's; its own or
 * anything outside is 404) in the name and brand of the account's parent. Under the
 * account's row lock — the ledger's writers take it too — the figures are read, the next
 * number is counted and the PDF is made and stored, all in one transaction with its
 * change-log row (resource `statements`, scope the account's own path: its own side and
 * everyone above it see it live). A retried `idempotencyKey` answers the first statement
 * (`replayed`); the same key for another month is 409. A key is the issuing side's own.
 */
export async function issueStatement(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
  input: TStatementCreate,
): Promise<{ statement: TStatementDto; replayed: boolean }> {
  assertCan(actor, 'statements:create');
  return mutate(em, actor, async (tx, record) => {
    const { account, parentName } = await readAccountInScope(tx, actor, unverifiedId, {
      lock: true,
    });
    // By the database's clock, under the lock every ledger writer of the account takes
    // before it reads that clock: whether the month has begun (a process whose clock ran
    // ahead issued next month's statement, final, opening on a balance still moving), and
    // a month still running is stated up to this instant and says so (`periodEnd`), so its
    // closing stays the balance at its end, whatever moves after. Stated to the month's
    // end, a payment on the 15th of a statement issued on the 10th made its closing untrue
    // and the next month's opening not follow from it.
    const issuedAt = await databaseClock(tx);
    const period = monthOf(input.period, issuedAt);
    const [parentId] = ancestorPrefixes(account.path).at(-2) ?? [null, null];
    if (input.idempotencyKey) {
      // The key is the issuing side's own: the carrier's and a reseller's keys for the
      // same customer never meet (Migration20261225100000). One request of that side,
      // whichever account it names (as a payment's, Migration20261227100000): sent again
      // for another account it is that request changed — it issued a second statement,
      // final. Held while looked up, so two such requests at once do not both issue.
      await tx.execute(
        `select pg_advisory_xact_lock(hashtext('statement-key:' || ? || ':' || ?))`,
        [actor.account.id, input.idempotencyKey],
      );
      // This account's own first: a key older writes used for two accounts answers each
      // its own statement, and another account's only when this one has none.
      const seen = await readStatementRow(
        tx,
        `s.issued_by_account_id = ? and s.idempotency_key = ?
         order by (s.account_id = ?) desc limit 1`,
        [actor.account.id, input.idempotencyKey, account.id],
      );
      if (seen) {
        // Issued under another parent (before a transfer), it is not this side's to read:
        // a key the old parent used answers nothing of its statement.
        if (
          seen.account_id !== account.id ||
          seen.parent_id !== parentId ||
          new Date(seen.period_start).getTime() !== period.start.getTime()
        ) {
          throw conflict(
            'idempotency_conflict',
            'This idempotency key was used for another statement; use a new key for a new one.',
            { fields: { idempotencyKey: 'was used for another request' } },
          );
        }
        return { statement: toStatementDto(seen), replayed: true };
      }
    }
    // A statement is read by the account's parent of the day (`parent_id`, read-statements
    // .ts), so it holds only what moved on that parent's books: a month from before a
    // transfer stays with the ledger, where the old side's rule still hides it — one that
    // ended before the account came under its parent too, with no movement in it (its
    // opening would be the balance the account had on the old parent's books).
    const [placed] = await directQuery<{ before: boolean }>(
      tx,
      `select placed_at is not null and placed_at >= ? as before from account where id = ?`,
      [period.end, account.id],
    );
    if (placed?.before) throw beforeTransfer();
    // Its entries are with its parent (the counterparty): one with another is of its time
    // under that one. The parent's books would not do — they hold the accounts below the
    // parent too, so a customer moved up (from a sub-reseller to its parent, or back to
    // the carrier) was stated again by its new parent, the old one's calls and payments
    // invoiced twice for the month.
    if (parentId) {
      const [elsewhere] = await directQuery<{ one: number }>(
        tx,
        `select 1 as one from ledger_entry e
          where e.account_id = ? and e.created_at >= ? and e.created_at < ?
            and e.counterparty_id is distinct from ?::uuid
          limit 1`,
        [account.id, period.start, period.end, parentId],
      );
      if (elsewhere) throw beforeTransfer();
    }
    // (At the month's very first millisecond, a millisecond of it: a period is never empty.)
    const upTo = new Date(Math.max(issuedAt.getTime(), period.start.getTime() + 1));
    const covered = upTo < period.end ? { ...period, end: upTo } : period;
    const figures = await statementFigures(tx, account, covered);
    // Numbered per issuing parent: a new parent after a transfer starts at 1, and learns
    // nothing of how many its old one issued.
    const [{ next }] = (await directQuery<{ next: number }>(
      tx,
      `select coalesce(max(number), 0) + 1 as next from statement
        where account_id = ? and parent_id is not distinct from ?`,
      [account.id, parentId],
    )) as [{ next: number }];
    const issuer = await issuerOf(tx, account.path, parentName);
    const pdf = await renderStatementPdf({
      number: next,
      period: period.period,
      periodStart: covered.start,
      periodEnd: covered.end,
      issuedAt,
      account: { id: account.id, name: account.name },
      issuer,
      figures,
    });
    const id = randomUUID();
    await directQuery(
      tx,
      `insert into statement (id, account_id, account_name, number, period_start, period_end, currency,
         opening_balance, usage_total, payments_total, credit_notes_total, adjustments_total,
         closing_balance, usage_lines, issuer, pdf, issued_by_user_id, issued_by_account_id,
         idempotency_key, issued_at, parent_id)
       values (?, ?, ?, ?, ?, ?, ?, ?::numeric, ?::numeric, ?::numeric, ?::numeric, ?::numeric,
               ?::numeric, ?::jsonb, ?::jsonb, decode(?, 'base64'), ?, ?, ?, ?, ?)`,
      [
        id,
        account.id,
        account.name,
        next,
        covered.start,
        covered.end,
        figures.currency,
        figures.openingBalance,
        figures.usageTotal,
        figures.paymentsTotal,
        figures.creditNotesTotal,
        figures.adjustmentsTotal,
        figures.closingBalance,
        JSON.stringify(figures.usage),
        JSON.stringify(issuer),
        // Base64 in SQL: the same statement on PostgreSQL and on the embedded database.
        pdf.toString('base64'),
        actor.userId,
        actor.account.id,
        input.idempotencyKey ?? null,
        issuedAt,
        parentId,
      ],
    );
    const statement = toStatementDto((await readStatementRow(tx, 's.id = ?', [id]))!);
    record({
      resource: 'statements',
      entityId: id,
      op: 'created',
      version: 1,
      before: null,
      after: { ...statement },
      scopeBefore: null,
      scopeAfter: account.path,
    });
    return { statement, replayed: false };
  });
}

async function readStatementRow(
  em: EntityManager,
  where: string,
  params: unknown[],
): Promise<TStatementRow | null> {
  const [row] = await directQuery<TStatementRow>(
    em,
    `select ${STATEMENT_COLUMNS} from statement s where ${where}`,
    params,
  );
  return row ?? null;
}

/**
 * The account's parent as the statement names it: the brand that applies to the parent
 * (its own, else the nearest above it), else the parent account's own name. So a
 * reseller's customer reads its reseller's brand, and the carrier's only when the
 * reseller's side has none.
 */
async function issuerOf(
  em: EntityManager,
  accountPath: string,
  parentName: string,
): Promise<TStatementIssuer> {
  const parentPath = ancestorPrefixes(accountPath).at(-2)?.[1];
  const resolved = parentPath ? await effectiveBrand(em, parentPath) : null;
  if (!resolved) {
    return {
      name: parentName,
      supportEmail: null,
      supportUrl: null,
      primaryColor: null,
      accentColor: null,
    };
  }
  const { brand } = resolved;
  return {
    name: brand.displayName,
    supportEmail: brand.supportEmail,
    supportUrl: brand.supportUrl,
    primaryColor: brand.primaryColor,
    accentColor: brand.accentColor,
  };
}

/** 409 `period_before_transfer`: the month is of the account's time under another parent. */
function beforeTransfer(): DomainError {
  return conflict(
    'period_before_transfer',
    'This month holds movements from before the account came under its parent: its statement cannot be issued now. Issue a later month.',
    {
      fields: {
        period:
          'holds movements from before the account came under its parent: issue a later month',
      },
    },
  );
}
