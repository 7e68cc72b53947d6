import { isDeepStrictEqual } from 'node:util';
import type { TLogEntry } from '@/lib/server/authz/audience';

/** What a ledger movement changes in an account's DTO by itself. */
const MOVED_BY_BALANCE = new Set(['balance', 'version', 'updatedAt']);

/**
 * Whether a log entry is a balance move and nothing else (issue 18 "Live, at call
 * rate"): an account's ledger movement whose DTO differs from the one before only in
 * the balance — no credit block or unblock (own or effective), no status, name, limit
 * or place. The fan-out coalesces such entries per account (server/balance-hold.ts);
 * anything more is delivered at once. Decided from the stored before/after, so a field
 * added to the DTO later counts as "more" until it is listed here.
 */
export function isBalanceOnly(entry: TLogEntry): boolean {
  if (entry.op !== 'updated') return false;
  if (entry.resource !== 'resellers' && entry.resource !== 'customers') return false;
  const summary = entry.summary;
  // A reseller's block flip names lists to refetch: never held, whatever the DTO says.
  // Calls that moved nothing (`calls`) come at call rate too: held the same way.
  if (
    (summary?.reason !== 'ledger' && summary?.reason !== 'calls') ||
    summary.refetch !== undefined
  )
    return false;
  if (entry.affectsAccess || entry.scopeBefore !== entry.scopeAfter) return false;
  const { before, after } = entry;
  if (!before || !after) return false;
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (MOVED_BY_BALANCE.has(key)) continue;
    if (!isDeepStrictEqual(before[key], after[key])) return false;
  }
  return true;
}
