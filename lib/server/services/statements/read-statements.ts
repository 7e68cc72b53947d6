import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { booksSql } from '@/lib/server/authz/scope';
import { directQuery } from '@/lib/server/db/direct-query';
import { invalidInput, notFound } from '@/lib/server/errors/domain-error';
import { readAccountInScope } from '@/lib/server/services/accounts/account-scope';
import { isInstantKey, isUuid } from '@/lib/server/services/paging';
import type { TPage } from '@/lib/shared/schemas/common';
import type { TStatementDto, TStatementListQuery } from '@/lib/shared/schemas/statements';
import { STATEMENT_COLUMNS, toStatementDto, type TStatementRow } from './statement-dto';

/**
 * Reading statements (`statements:read`), in the query itself, so a sibling's, a
 * parent's or another tenant's statement is 404 like one that does not exist: an
 * account's own people read those its parent of today issued; above the account, those
 * issued while it was on the viewer's books or below (`booksSql` on the parent it had
 * then) — where the account is now does not matter. So a customer's new parent after a
 * transfer does not read what its old one issued, and the old one keeps reading the
 * statements it issued (its invoices, to collect and to keep), as they were issued.
 */

/** The statements (`s`) the actor may read, as SQL. */
function readableSql(actor: TActor): { sql: string; params: unknown[] } {
  return booksSql(actor.account, 's.account_id', 's.parent_id');
}

/** A cursor names the last statement of a page: its issue time and id. */
const CURSOR = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)~([0-9a-f-]{36})$/;

/**
 * `GET /statements` (`accountId`: one account's, 404 outside scope) and
 * `GET /accounts/{id}/statements`: in issue order, oldest first, like every list (a new
 * statement joins the end, live).
 */
export async function listStatements(
  em: EntityManager,
  actor: TActor,
  query: TStatementListQuery,
): Promise<TPage<TStatementDto>> {
  assertCan(actor, 'statements:read');
  if (query.accountId) {
    await readAccountInScope(em, actor, query.accountId, { within: true });
  }
  const scope = readableSql(actor);
  const filters = [scope.sql];
  const params: unknown[] = [...scope.params];
  if (query.accountId) {
    filters.push('s.account_id = ?');
    params.push(query.accountId);
  }
  if (query.cursor) {
    const match = CURSOR.exec(query.cursor);
    // Both go into SQL: a real instant and a uuid, as this API gave them out.
    if (!match || !isInstantKey(match[1]!) || !isUuid(match[2])) {
      throw invalidInput({ cursor: 'is not a cursor this API gave out' });
    }
    filters.push('(s.issued_at, s.id) > (?::timestamptz, ?::uuid)');
    params.push(match[1], match[2]);
  }
  const rows = await directQuery<TStatementRow>(
    em,
    `select ${STATEMENT_COLUMNS} from statement s
      where ${filters.join(' and ')} order by s.issued_at, s.id limit ?`,
    [...params, query.limit + 1],
  );
  const items = rows.slice(0, query.limit).map(toStatementDto);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > query.limit && last ? `${last.issuedAt}~${last.id}` : null,
  };
}

/** `GET /statements/{id}`. */
export async function readStatement(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
): Promise<TStatementDto> {
  assertCan(actor, 'statements:read');
  const scope = readableSql(actor);
  const [row] = await directQuery<TStatementRow>(
    em,
    `select ${STATEMENT_COLUMNS} from statement s
      where s.id = ? and ${scope.sql}`,
    [unverifiedId, ...scope.params],
  );
  if (!row) throw notFound('statement');
  return toStatementDto(row);
}

/** `GET /statements/{id}/pdf`: the stored file, as issued, and a name to save it under. */
export async function readStatementPdf(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
): Promise<{ filename: string; pdf: Buffer }> {
  assertCan(actor, 'statements:read');
  const scope = readableSql(actor);
  const [row] = await directQuery<{ number: number; period_start: string | Date; pdf: string }>(
    em,
    `select s.number, s.period_start, encode(s.pdf, 'base64') as pdf from statement s
      where s.id = ? and ${scope.sql}`,
    [unverifiedId, ...scope.params],
  );
  if (!row) throw notFound('statement');
  const period = new Date(row.period_start).toISOString().slice(0, 7);
  return {
    filename: `statement-${row.number}-${period}.pdf`,
    pdf: Buffer.from(row.pdf, 'base64'),
  };
}
