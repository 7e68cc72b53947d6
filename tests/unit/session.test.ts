import { describe, expect, it } from 'vitest';
import { parseCookieHeader, sessionTokenFrom } from '@/lib/server/auth/session';

describe('session cookie reading', () => {
  it('parses a Cookie header, decoding values', () => {
    const cookies = parseCookieHeader('a=1; next-auth.session-token=abc%2Edef ; broken; =x');
    expect(cookies.get('a')).toBe('1');
    expect(cookies.get('next-auth.session-token')).toBe('abc.def');
    expect(cookies.size).toBe(2);
  });

  it('returns nothing for a missing header', () => {
    expect(parseCookieHeader(undefined).size).toBe(0);
  });

  it('prefers the __Secure- cookie and falls back to the plain one', () => {
    const both = new Map([
      ['next-auth.session-token', 'plain'],
      ['__Secure-next-auth.session-token', 'secure'],
    ]);
    expect(sessionTokenFrom((name) => both.get(name))).toBe('secure');
    expect(
      sessionTokenFrom((name) => (name === 'next-auth.session-token' ? 'plain' : undefined)),
    ).toBe('plain');
    expect(sessionTokenFrom(() => undefined)).toBeUndefined();
  });
});
