import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * "Credentials enter through one door" (DESIGN §1): the functions that turn a credential
 * into an actor are called from lib/server/auth/door.ts alone, and every entry point
 * goes through `enter`. Four hand-written copies is how a revoked token kept its socket.
 */
const root = path.resolve(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(path.join(root, dir)).flatMap((name) => {
    const relative = path.join(dir, name);
    if (statSync(path.join(root, relative)).isDirectory()) return sources(relative);
    return /\.(ts|tsx)$/.test(name) ? [relative] : [];
  });
}
const files = ['app', 'lib', 'server', 'components'].flatMap(sources);
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

describe('one door for credentials', () => {
  it('only the door resolves a credential or decodes a session cookie', () => {
    const users = files.filter((file) =>
      /\b(resolveSessionActor|resolveTokenActor|resolveCredentialActors|sessionClaims)\b|from 'next-auth\/jwt'/.test(
        read(file),
      ),
    );
    expect(users.sort()).toEqual(['lib/server/auth/door.ts', 'lib/server/authz/actor.ts']);
  });

  it('every entry point asks the door', () => {
    for (const entry of [
      'lib/server/api/handler.ts', // API routes
      'lib/server/auth/page-session.ts', // pages
      'server/socket.ts', // socket handshake
      'server/revocation.ts', // socket re-check, catch-up, expiry
      'lib/server/auth/sessions.ts', // sign-out
    ]) {
      expect([entry, /\benter\(/.test(read(entry))]).toEqual([entry, true]);
    }
  });

  it('no route handler reads a cookie or an Authorization header itself', () => {
    const routes = files.filter((file) => file.startsWith('app/api/v1/'));
    expect(routes.length).toBeGreaterThan(30);
    for (const route of routes) {
      const text = read(route);
      expect([route, /headers\.get\('(cookie|authorization)'\)|cookies\(\)/.test(text)]).toEqual([
        route,
        false,
      ]);
    }
  });
});
