import type { EntityManager } from '@mikro-orm/postgresql';
import type { TChange } from '@/lib/server/live/change-log';
import { Money, type TMoney } from '@/lib/shared/pricing/money';
import type { TAccountFields } from '@/lib/server/services/accounts/account-dto';
import { atScale } from '@/lib/server/services/accounts/account-dto';
import { ancestorIds } from '@/lib/server/services/accounts/account-tree';
import { notifyAccounts } from '@/lib/server/services/notifications/notify-accounts';
import { plainDecimal } from '@/lib/shared/format';

/** Balance + credit limit (no limit: the balance alone). */
export function availableOf(account: Pick<TAccountFields, 'balance' | 'creditLimit'>): TMoney {
  return new Money(account.balance).plus(account.creditLimit ?? '0');
}

/**
 * Tells an account's own side and its parent's (people who may read ledgers) that its
 * credit ran low, inside the transaction that moved it: when it becomes blocked for
 * credit, or else when available credit goes from above its warning threshold to at
 * or below it. Stateless: the notice is raised by the crossing itself, so while the
 * account stays below nothing repeats, and a movement back above re-arms it. One
 * crossing is one notice per person (blocked, the graver, names both).
 */
export async function noticeCreditCrossing(
  tx: EntityManager,
  record: (change: TChange) => void,
  before: TAccountFields,
  after: TAccountFields,
): Promise<void> {
  const kind = creditCrossing(before, after);
  if (!kind) return;
  const available = atScale(availableOf(after).toFixed(6));
  const parentId = ancestorIds(after.path).at(-2);
  const what = after.kind === 'customer' ? 'customers' : 'resellers';
  const title =
    kind === 'account.credit_blocked'
      ? `${after.name} is blocked for credit`
      : `${after.name} is low on credit`;
  const body =
    kind === 'account.credit_blocked'
      ? `${after.name} has used up its credit: ${plainDecimal(available)} ${after.currency} available. It and everything below it are blocked until a payment or a higher limit.`
      : `${after.name} has ${plainDecimal(available)} ${after.currency} of credit left, at or below its warning threshold of ${plainDecimal(after.warningThreshold!)} ${after.currency}.`;
  const data = {
    accountId: after.id,
    available,
    currency: after.currency,
    warningThreshold: after.warningThreshold ? atScale(after.warningThreshold) : null,
  };
  // The parent's side opens the account's Balance tab; its own side has no record page.
  // Both are about the account: neither shows once it has moved out of the reader's tree.
  const subject = { id: after.id, path: after.path };
  await notifyAccounts(tx, record, {
    accountIds: [after.id],
    readGrants: ['ledger:read'],
    subject,
    kind,
    title,
    body,
    data,
  });
  if (parentId) {
    // It names the account: a ledger reader who may not read such accounts sees them by
    // id only everywhere else (the ledger's export, the exposure table), so is not told.
    await notifyAccounts(tx, record, {
      accountIds: [parentId],
      readGrants: ['ledger:read', `${what}:read`],
      subject,
      kind,
      title,
      body,
      link: `/${what}/${after.id}?tab=balance`,
      data,
    });
  }
}

/** Which notice a change of the account's credit raises, if any. */
export function creditCrossing(
  before: Pick<TAccountFields, 'balance' | 'creditLimit' | 'creditBlocked'>,
  after: Pick<TAccountFields, 'balance' | 'creditLimit' | 'creditBlocked' | 'warningThreshold'>,
): 'account.credit_blocked' | 'account.credit_warning' | null {
  if (after.creditBlocked && !before.creditBlocked) return 'account.credit_blocked';
  if (after.warningThreshold === null || after.warningThreshold === undefined) return null;
  const threshold = new Money(after.warningThreshold);
  return availableOf(before).gt(threshold) && availableOf(after).lte(threshold)
    ? 'account.credit_warning'
    : null;
}
