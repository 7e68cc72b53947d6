'use client';

import { useState } from 'react';
import { apiFetch } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';
import { usePagedList } from '@/lib/client/use-resource';
import { useSchemaForm } from '@/lib/client/use-schema-form';
import { ZStatementCreate, type TStatementDto } from '@/lib/shared/schemas/statements';
import { Button, TextField } from '@/components/ui/field';
import { FormMessage, PanelSection } from '@/components/ui/panel-section';
import { Money } from '@/components/ui/money';
import { decimalsByCurrency } from '@/lib/shared/format';
import { DateTime } from '@/components/ui/date-time';
import { serverNow } from '@/lib/client/server-clock';

/**
 * An account's monthly statements (issue 19): each with its figures and its PDF to
 * download, newest first, kept live (a statement issued anywhere above joins the list);
 * for the side above it with `statements:create`, "Issue statement" for a month. A
 * statement is final: issuing a month again numbers a new one.
 */
export function StatementsSection({
  account,
  canIssue,
}: {
  account: { id: string; name: string };
  canIssue: boolean;
}) {
  const list = usePagedList<TStatementDto>(
    queryKeys.list('statements', { accountId: account.id }),
    { pageSize: 100 },
  );
  const rows = [...(list.data ?? [])].reverse();
  // Every amount of the table at one precision: a row's figures add up on the page too.
  const decimals = decimalsByCurrency(
    rows.flatMap((row) =>
      [
        row.openingBalance,
        row.usageTotal,
        row.paymentsTotal,
        row.creditNotesTotal,
        row.adjustmentsTotal,
        row.closingBalance,
      ].map((amount) => ({ amount, currency: row.currency })),
    ),
  );
  return (
    // Two columns only beside the form: alone, the list takes the whole width.
    <div className={`grid gap-4 ${canIssue ? 'lg:grid-cols-[2fr_1fr]' : ''}`}>
      <PanelSection title={`Statements of ${account.name}`}>
        {list.isError ? (
          <p role="alert" className="text-sm text-red-700">
            The statements could not be read.
          </p>
        ) : list.isLoading ? (
          <p className="text-sm text-slate-600">Loading…</p>
        ) : rows.length === 0 ? (
          <p className="text-sm text-slate-600">No statements issued yet.</p>
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full text-sm" aria-label={`Statements of ${account.name}`}>
              <thead>
                <tr className="text-left text-slate-600">
                  {/* Every figure between opening and closing, so a row adds up. */}
                  {[
                    'No.',
                    'Period',
                    'Opening',
                    'Usage',
                    'Payments',
                    'Credit notes',
                    'Adjustments',
                    'Closing',
                    'Issued',
                    '',
                  ].map((label, index) => (
                    <th
                      key={label || index}
                      scope="col"
                      className={`py-1 pr-3 font-medium ${index >= 2 && index <= 7 ? 'text-right' : ''}`}
                    >
                      {label || <span className="sr-only">Download</span>}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((statement) => (
                  <tr key={statement.id} className="border-t border-slate-100">
                    <td className="py-1 pr-3 tabular-nums">{statement.number}</td>
                    <td className="py-1 pr-3">
                      {statement.period}
                      {/* Issued before the month ended: it states the month up to then. */}
                      {monthRunning(statement) ? (
                        <span className="block text-xs text-slate-600">
                          so far, to {statement.periodEnd.slice(0, 10)}
                        </span>
                      ) : null}
                    </td>
                    {[
                      statement.openingBalance,
                      statement.usageTotal,
                      statement.paymentsTotal,
                      statement.creditNotesTotal,
                      statement.adjustmentsTotal,
                      statement.closingBalance,
                    ].map((amount, index) => (
                      <td key={index} className="py-1 pr-3 text-right tabular-nums">
                        <Money
                          amount={amount}
                          currency={statement.currency}
                          minDecimals={decimals(statement.currency)}
                        />
                      </td>
                    ))}
                    <td className="py-1 pr-3">
                      <DateTime at={statement.issuedAt} />
                    </td>
                    <td className="py-1">
                      <a
                        href={`/api/v1/statements/${statement.id}/pdf`}
                        download
                        className="font-medium text-brand-700 hover:underline"
                        aria-label={`Download statement ${statement.number} (${statement.period}) as PDF`}
                      >
                        PDF
                      </a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {list.hasNextPage ? (
          <Button
            type="button"
            onClick={() => void list.fetchNextPage()}
            disabled={list.isFetchingNextPage}
          >
            Load more
          </Button>
        ) : null}
      </PanelSection>
      {canIssue ? <IssueStatement account={account} /> : null}
    </div>
  );
}

/** The month now by the server's clock, UTC, as `YYYY-MM` (what a month input holds). */
/** A statement of a month issued before it ended: its `periodEnd` is the issue, not the month's end. */
function monthRunning(statement: { periodStart: string; periodEnd: string }): boolean {
  const end = new Date(statement.periodStart);
  end.setUTCMonth(end.getUTCMonth() + 1);
  return Date.parse(statement.periodEnd) < end.getTime();
}

function thisMonth(): string {
  return new Date(serverNow()).toISOString().slice(0, 7);
}

function IssueStatement({ account }: { account: { id: string; name: string } }) {
  // A fresh key per statement the form is opened for: a resend of the same one counts once.
  const [key, setKey] = useState(() => crypto.randomUUID());
  const form = useSchemaForm({
    schema: ZStatementCreate,
    defaultValues: { period: thisMonth() },
    toBody: (values) => ({ period: values.period.trim(), idempotencyKey: key }),
    submit: async (body) => {
      const statement = await apiFetch<TStatementDto>(`/accounts/${account.id}/statements`, {
        method: 'POST',
        body,
      });
      setKey(crypto.randomUUID());
      return statement;
    },
    success: (statement: TStatementDto) =>
      `Statement no. ${statement.number} for ${statement.period} issued.`,
  });
  return (
    <PanelSection title="Issue statement">
      <form onSubmit={form.onSubmit} className="space-y-3" aria-label="Issue statement" noValidate>
        <TextField
          id="statement-period"
          label="Month (UTC)"
          type="month"
          max={thisMonth()}
          {...form.register('period')}
          error={form.fields.period}
        />
        <p className="text-xs text-slate-600">
          From {account.name}&apos;s ledger as it stands, in its parent&apos;s name and brand.
          Issuing a month again makes a new numbered statement.
        </p>
        <FormMessage message={form.message ?? form.fields.idempotencyKey ?? null} />
        <Button type="submit" disabled={form.pending}>
          Issue statement
        </Button>
      </form>
    </PanelSection>
  );
}
