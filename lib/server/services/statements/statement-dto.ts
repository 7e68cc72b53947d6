import { atScale } from '@/lib/server/services/accounts/account-dto';
import type {
  TStatementDto,
  TStatementIssuer,
  TStatementUsageLine,
} from '@/lib/shared/schemas/statements';
import { periodName } from './statement-period';

/** A `statement` row without its PDF. */
export interface TStatementRow {
  id: string;
  account_id: string;
  /** The account's name as issued (what its PDF prints), not as it is now. */
  account_name: string;
  number: number;
  period_start: string | Date;
  period_end: string | Date;
  currency: string;
  opening_balance: string;
  usage_total: string;
  payments_total: string;
  credit_notes_total: string;
  adjustments_total: string;
  closing_balance: string;
  usage_lines: TStatementUsageLine[];
  issuer: TStatementIssuer;
  issued_at: string | Date;
  /** The account's parent when it was issued: who above reads it (`booksSql`). */
  parent_id: string | null;
}

/** Every column but the PDF; `s` is the statement. */
export const STATEMENT_COLUMNS = `s.id, s.account_id, s.account_name, s.number,
  s.period_start, s.period_end, s.currency, s.opening_balance::text, s.usage_total::text,
  s.payments_total::text, s.credit_notes_total::text, s.adjustments_total::text,
  s.closing_balance::text, s.usage_lines, s.issuer, s.issued_at, s.parent_id`;

/**
 * The statement as every viewer sees it: issued once, so its version is 1 and its
 * times are the issue's. Who issued it is not in it (the audit and the live event name
 * the actor per viewer); the issuer is the parent's brand.
 */
export function toStatementDto(row: TStatementRow): TStatementDto {
  const issuedAt = new Date(row.issued_at).toISOString();
  const start = new Date(row.period_start);
  return {
    id: row.id,
    version: 1,
    createdAt: issuedAt,
    updatedAt: issuedAt,
    accountId: row.account_id,
    accountName: row.account_name,
    number: row.number,
    period: periodName(start),
    periodStart: start.toISOString(),
    periodEnd: new Date(row.period_end).toISOString(),
    currency: row.currency,
    openingBalance: atScale(row.opening_balance),
    usageTotal: atScale(row.usage_total),
    paymentsTotal: atScale(row.payments_total),
    creditNotesTotal: atScale(row.credit_notes_total),
    adjustmentsTotal: atScale(row.adjustments_total),
    closingBalance: atScale(row.closing_balance),
    usage: row.usage_lines,
    issuer: row.issuer,
    issuedAt,
  };
}
