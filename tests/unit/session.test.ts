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

  it('reads the one name the public URL gives the cookie, as next-auth sets it', () => {
    const both = new Map([
      ['next-auth.session-token', 'plain'],
      ['__Secure-next-auth.session-token', 'secure'],
    ]);
    const get = (name: string) => both.get(name);
    expect(sessionTokenFrom(get, 'https://panel.example')).toBe('secure');
    expect(sessionTokenFrom(get, 'http://localhost:3000')).toBe('plain');
    // Under https a plain cookie is never a session: a sibling subdomain or plain http
    // could have planted it (the prefix is what rules that out).
    const plainOnly = (name: string) => (name === 'next-auth.session-token' ? 'plain' : undefined);
    expect(sessionTokenFrom(plainOnly, 'https://panel.example')).toBeUndefined();
    // And over http the secure name is not next-auth's either.
    const secureOnly = (name: string) => (name.startsWith('__Secure-') ? 'secure' : undefined);
    expect(sessionTokenFrom(secureOnly, 'http://localhost:3000')).toBeUndefined();
    expect(sessionTokenFrom(() => undefined, 'https://panel.example')).toBeUndefined();
  });
});
