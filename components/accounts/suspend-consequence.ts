import type { TAccountBulkImpact } from '@/lib/shared/schemas/accounts';

/**
 * The bulk suspend's confirmation sentence, from the server's counts
 * (`POST /{kind}/bulk/impact`). Pure, so its wording is tested without a browser.
 */

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** "Their 12 customers and 5 users lose access until resumed." from the server's counts. */
export function suspendConsequence(impact: TAccountBulkImpact | null, named: number): string {
  const them = named === 1 ? 'Its' : 'Their';
  if (!impact)
    return `${named === 1 ? 'it' : 'they'} and everything below lose access until resumed.`;
  // The server counts only what the suspend changes: named accounts suspended already
  // (and what is below them) are left as they are.
  if (impact.accounts === 0)
    return `${named === 1 ? 'it is' : 'they are'} suspended already: nothing changes.`;
  const counts = [
    [impact.resellers, 'reseller'],
    [impact.customers, 'customer'],
    [impact.users, 'user'],
  ] as const;
  const parts = counts.flatMap(([count, noun]) => (count ? [plural(count, noun)] : []));
  // A kind the viewer may not read comes without its count (null): say only that what
  // is below goes too, never "nothing is below".
  const withheld = counts.some(([count]) => count === null);
  const below = named === 1 ? 'it' : 'them';
  if (!parts.length && withheld)
    return `${named === 1 ? 'it' : 'they'} and everything below ${below} lose access until resumed.`;
  if (!parts.length)
    return `${named === 1 ? 'it loses' : 'they lose'} access until resumed; nothing is below ${below} and no user signs in there.`;
  const listed =
    parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : parts[0];
  const rest = withheld ? `, with everything else below ${below},` : '';
  return `${named === 1 ? 'it' : 'they'} and ${them.toLowerCase()} ${listed}${rest} lose access until resumed.`;
}
