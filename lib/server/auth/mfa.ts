import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import { DEFAULT_BRAND_NAME } from '@/lib/shared/schemas/brands';

/**
 * TOTP (RFC 6238) for staff sign-in: SHA-1, 6 digits, 30-second steps — what every
 * authenticator app reads from an `otpauth://` URI. The shared secret is kept encrypted
 * (AES-256-GCM) under a key derived by HKDF from the runtime's AUTH secret, so a copy of
 * the database alone yields no secret; recovery codes are kept as HMACs under another
 * derived key. Pure functions of their inputs: the unit test covers them.
 */
const TOTP_PERIOD = 30;
/** One step either side: clocks drift and people type slowly. */
const TOTP_WINDOW = 1;
export const RECOVERY_CODE_COUNT = 10;

function derivedKey(authSecret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', authSecret, 'reseller-panel/mfa', purpose, 32));
}

/** A fresh 160-bit TOTP secret, base32 (the form apps accept for manual entry). */
export function newTotpSecret(): string {
  return new OTPAuth.Secret({ size: 20 }).base32;
}

/** `v1.<iv>.<tag>.<ciphertext>`, base64url: the secret as it is stored. */
export function encryptSecret(secretBase32: string, authSecret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', derivedKey(authSecret, 'totp-secret'), iv);
  const sealed = Buffer.concat([cipher.update(secretBase32, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), sealed]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

/** The stored secret back; throws when it was not sealed under this AUTH secret. */
export function decryptSecret(stored: string, authSecret: string): string {
  const [version, iv, tag, sealed] = stored.split('.');
  if (version !== 'v1' || !iv || !tag || !sealed) throw new Error('unknown MFA secret format');
  const decipher = createDecipheriv(
    'aes-256-gcm',
    derivedKey(authSecret, 'totp-secret'),
    Buffer.from(iv, 'base64url'),
  );
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([
    decipher.update(Buffer.from(sealed, 'base64url')),
    decipher.final(),
  ]).toString('utf8');
}

/**
 * `issuer` names the entry in the app: the panel's name as the person sees it (their
 * brand's, a white-label portal's users never see the product's own); only codes from
 * the secret are checked, so the name is for people alone.
 */
function totpFor(secretBase32: string, label: string, issuer = DEFAULT_BRAND_NAME): OTPAuth.TOTP {
  return new OTPAuth.TOTP({
    issuer,
    label,
    algorithm: 'SHA1',
    digits: 6,
    period: TOTP_PERIOD,
    secret: OTPAuth.Secret.fromBase32(secretBase32),
  });
}

/** The `otpauth://` URI an authenticator app scans. */
export function totpUri(secretBase32: string, label: string, issuer: string): string {
  return totpFor(secretBase32, label, issuer).toString();
}

/** Six digits, spaces allowed between them (apps show "123 456"). */
export function looksLikeTotp(code: string): boolean {
  return /^\d{6}$/.test(code.replace(/\s+/g, ''));
}

/**
 * The time step a code belongs to, or null when it is wrong, or was for a step at or
 * before `lastStep` (a code is accepted once: a code seen over a shoulder is spent).
 */
export function verifyTotp(
  secretBase32: string,
  code: string,
  lastStep: number | null,
  now = Date.now(),
): number | null {
  const token = code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(token)) return null;
  const delta = totpFor(secretBase32, 'check').validate({
    token,
    timestamp: now,
    window: TOTP_WINDOW,
  });
  if (delta === null) return null;
  const step = Math.floor(now / 1000 / TOTP_PERIOD) + delta;
  return lastStep !== null && step <= lastStep ? null : step;
}

/** 32 characters (no i, l, o, 1: easy to read back), so a byte's low 5 bits pick one evenly. */
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz023456789';

/** Ten codes of 12 characters (60 bits each), shown once as `xxxx-xxxx-xxxx`. */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const bytes = randomBytes(12);
    const chars = [...bytes].map((byte) => RECOVERY_ALPHABET[byte & 31]);
    return [0, 4, 8].map((at) => chars.slice(at, at + 4).join('')).join('-');
  });
}

/** A recovery code as stored: an HMAC of its letters, case and dashes ignored. */
export function hashRecoveryCode(code: string, authSecret: string): string {
  const normalized = code.toLowerCase().replace(/[^a-z0-9]/g, '');
  return createHmac('sha256', derivedKey(authSecret, 'recovery-code'))
    .update(normalized)
    .digest('hex');
}
