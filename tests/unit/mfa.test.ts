import { describe, expect, it } from 'vitest';
import * as OTPAuth from 'otpauth';
import {
  decryptSecret,
  encryptSecret,
  hashRecoveryCode,
  newRecoveryCodes,
  newTotpSecret,
  totpUri,
  verifyTotp,
} from '@/lib/server/auth/mfa';

const AUTH = 'a-test-auth-secret-of-enough-length-0001';
const codeAt = (secret: string, at: number) =>
  new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).generate({ timestamp: at });

describe('TOTP (RFC 6238)', () => {
  const secret = newTotpSecret();
  const now = Date.UTC(2026, 11, 1, 12, 0, 10);
  const step = Math.floor(now / 30_000);

  it('accepts the current code and one step either side, and names its step', () => {
    expect(verifyTotp(secret, codeAt(secret, now), null, now)).toBe(step);
    expect(verifyTotp(secret, codeAt(secret, now - 30_000), null, now)).toBe(step - 1);
    expect(verifyTotp(secret, codeAt(secret, now + 30_000), null, now)).toBe(step + 1);
    // "123 456" as apps show it.
    const spaced = codeAt(secret, now).replace(/^(\d{3})/, '$1 ');
    expect(verifyTotp(secret, spaced, null, now)).toBe(step);
  });

  it('refuses an old code, a wrong one, and one whose step was used already', () => {
    expect(verifyTotp(secret, codeAt(secret, now - 90_000), null, now)).toBeNull();
    const wrong = String((Number(codeAt(secret, now)) + 1) % 1_000_000).padStart(6, '0');
    expect(verifyTotp(secret, wrong, null, now)).toBeNull();
    expect(verifyTotp(secret, codeAt(secret, now), step, now)).toBeNull();
    expect(verifyTotp(secret, codeAt(secret, now + 30_000), step, now)).toBe(step + 1);
    expect(verifyTotp(secret, 'abcdef', null, now)).toBeNull();
  });

  it('gives an otpauth URI an app can read back', () => {
    const parsed = OTPAuth.URI.parse(
      totpUri(secret, 'ops@carrier.test', 'Blue Voice'),
    ) as OTPAuth.TOTP;
    expect(parsed.secret.base32).toBe(secret);
    expect(parsed.issuer).toBe('Blue Voice');
    expect(parsed.label).toBe('ops@carrier.test');
    expect(parsed.digits).toBe(6);
    expect(parsed.period).toBe(30);
  });
});

describe('secrets at rest', () => {
  it('round-trips, never stores the secret in the clear, and needs the same AUTH secret', () => {
    const secret = newTotpSecret();
    const sealed = encryptSecret(secret, AUTH);
    expect(sealed).not.toContain(secret);
    expect(encryptSecret(secret, AUTH)).not.toBe(sealed); // a fresh IV each time
    expect(decryptSecret(sealed, AUTH)).toBe(secret);
    expect(() => decryptSecret(sealed, `${AUTH}-other`)).toThrow();
  });
});

describe('recovery codes', () => {
  it('are ten distinct codes, hashed with case and dashes ignored, keyed by the AUTH secret', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/);
    const code = codes[0]!;
    expect(hashRecoveryCode(code.toUpperCase().replace(/-/g, ' '), AUTH)).toBe(
      hashRecoveryCode(code, AUTH),
    );
    expect(hashRecoveryCode(code, AUTH)).not.toContain(code.replace(/-/g, ''));
    expect(hashRecoveryCode(code, `${AUTH}-other`)).not.toBe(hashRecoveryCode(code, AUTH));
  });
});
