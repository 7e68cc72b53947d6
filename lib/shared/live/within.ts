/**
 * An account as an envelope's `within` names it (calls that moved no balance: the
 * accounts from the viewer's own down to the customer's parent, lib/server/authz/
 * audience.ts): a one-way digest of its id, not the id. The envelope reaches every reader
 * of the customer, and one who may not read resellers must not learn the ids of those
 * between (R1 above R2 above the customer: R2 is the customer's `parentId`, R1 is not
 * theirs to know). A client only asks whether an account it already holds — the root of
 * one of its traffic views — is among them, which the digest answers; an id is random
 * (122 bits), so the digest of one the viewer does not hold cannot be turned back into
 * it. What the digests still tell such a reader: how many accounts lie between, and
 * which customers share one. Two ids meeting in one digest would cost a needless
 * refetch, nothing more.
 */
export function withinKey(accountId: string): string {
  // cyrb53: two 32-bit multiplicative hashes mixed into 53 bits; the same on every runtime.
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let index = 0; index < accountId.length; index++) {
    const code = accountId.charCodeAt(index);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}
