import { createHash, randomBytes } from 'node:crypto';

/** Tokens look like `rpt_<43 base64url chars>`; only their SHA-256 is stored. */
const PREFIX = 'rpt_';

export function newTokenSecret(): { token: string; hash: string } {
  const token = PREFIX + randomBytes(32).toString('base64url');
  return { token, hash: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The shape of a token this panel issues (anything else is not looked up). */
const TOKEN_SHAPE = /^rpt_[A-Za-z0-9_-]{20,100}$/;

export function isTokenShaped(token: string): boolean {
  return TOKEN_SHAPE.test(token);
}

/**
 * `Authorization: Bearer rpt_…` → the token's value; an Authorization header that is
 * not one gives an empty credential (refused by the door, never a fall back to the cookie).
 */
export function bearerFrom(header: string | null | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/.exec(header?.trim() ?? '');
  return match && isTokenShaped(match[1]!) ? match[1] : undefined;
}
