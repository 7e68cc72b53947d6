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
    const all = new Map([
      ['next-auth.session-token', 'plain'],
      ['__Secure-next-auth.session-token', 'secure'],
      ['__Host-next-auth.session-token', 'host'],
    ]);
    const get = (name: string) => all.get(name);
    expect(sessionTokenFrom(get, 'https://panel.example')).toBe('host');
    expect(sessionTokenFrom(get, 'http://localhost:3000')).toBe('plain');
    // Under https neither a plain cookie nor a __Secure- one is a session: plain http or a
    // sibling subdomain (Domain=, which __Secure- allows) could have planted it.
    for (const planted of ['next-auth.session-token', '__Secure-next-auth.session-token']) {
      const only = (name: string) => (name === planted ? 'planted' : undefined);
      expect(sessionTokenFrom(only, 'https://panel.example')).toBeUndefined();
    }
    // And over http the prefixed name is not next-auth's either.
    const hostOnly = (name: string) => (name.startsWith('__Host-') ? 'host' : undefined);
    expect(sessionTokenFrom(hostOnly, 'http://localhost:3000')).toBeUndefined();
    expect(sessionTokenFrom(() => undefined, 'https://panel.example')).toBeUndefined();
  });
});
