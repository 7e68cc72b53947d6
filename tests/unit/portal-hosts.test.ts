import { describe, expect, it } from 'vitest';
import type { MikroORM } from '@mikro-orm/postgresql';
import { requestHostname } from '@/lib/server/http/request-host';
import {
  isAllowedOrigin,
  isAllowedSessionOrigin,
  PortalHostnames,
} from '@/lib/server/services/brands/portal-hostnames';
import { assertSameOriginWrite } from '@/lib/server/api/same-origin';
import { brandStyle } from '@/lib/shared/brand-css';

/** A hostname set as the cache would hold it, without a database. */
function hostnames(names: string[]): PortalHostnames {
  const cache = new PortalHostnames(undefined as unknown as MikroORM);
  (cache as unknown as { loaded: Promise<ReadonlySet<string>> }).loaded = Promise.resolve(
    new Set(names),
  );
  return cache;
}

describe('the request’s hostname (sessions and portals are keyed by it)', () => {
  it('drops the port, the case and a trailing dot', () => {
    expect(requestHostname('Portal.Blue.Example:3210')).toBe('portal.blue.example');
    expect(requestHostname('portal.blue.example.')).toBe('portal.blue.example');
    expect(requestHostname('[::1]:3000')).toBe('[::1]');
    expect(requestHostname('localhost')).toBe('localhost');
    expect(requestHostname(undefined)).toBeNull();
    expect(requestHostname('  ')).toBeNull();
  });
});

describe('the socket’s allowed origins', () => {
  const portals = hostnames(['portal.blue.example']);
  const allowed = (origin: string, publicUrl = 'https://panel.example') =>
    isAllowedOrigin(origin, publicUrl, portals);

  it('are the public URL and the brands’ hostnames under its scheme and port', async () => {
    expect(await allowed('https://panel.example')).toBe(true);
    expect(await allowed('https://portal.blue.example')).toBe(true);
    expect(await allowed('http://portal.blue.example:3210', 'http://localhost:3210')).toBe(true);
  });

  it('refuse anything else', async () => {
    expect(await allowed('http://portal.blue.example')).toBe(false);
    expect(await allowed('https://portal.blue.example:8443')).toBe(false);
    expect(await allowed('https://evil.blue.example')).toBe(false);
    expect(await allowed('https://portal.blue.example/path')).toBe(false);
    expect(await allowed('null')).toBe(false);
  });
});

describe('the socket’s allowed origins with a session cookie', () => {
  const portals = hostnames(['portal.blue.example', 'evil.panel.example']);
  const allowed = (origin: string, host: string | undefined) =>
    isAllowedSessionOrigin(origin, host, 'https://panel.example', portals);

  it('are the origin of the host the handshake was sent to', async () => {
    expect(await allowed('https://panel.example', 'panel.example')).toBe(true);
    expect(await allowed('https://portal.blue.example', 'Portal.Blue.Example')).toBe(true);
    // A proxy may forward the Host without the public URL's port.
    expect(
      await isAllowedSessionOrigin(
        'http://portal.blue.example:3210',
        'portal.blue.example',
        'http://localhost:3210',
        portals,
      ),
    ).toBe(true);
  });

  it('refuse another registered hostname, and what the installation refuses', async () => {
    expect(await allowed('https://evil.panel.example', 'panel.example')).toBe(false);
    expect(await allowed('https://portal.blue.example', 'panel.example')).toBe(false);
    expect(await allowed('https://panel.example', 'portal.blue.example')).toBe(false);
    expect(await allowed('https://unknown.example', 'unknown.example')).toBe(false);
    expect(await allowed('http://panel.example', 'panel.example')).toBe(false);
    expect(await allowed('https://portal.blue.example:8443', 'portal.blue.example')).toBe(false);
    expect(await allowed('null', 'panel.example')).toBe(false);
    expect(await allowed('https://portal.blue.example', undefined)).toBe(false);
  });
});

describe('cookie writes on a portal', () => {
  const write = (host: string, origin: string) => {
    try {
      assertSameOriginWrite(
        new Request('https://panel.example/api/v1/customers', {
          method: 'POST',
          headers: { host, origin, 'content-type': 'application/json' },
        }),
        'https://panel.example',
      );
      return 'ok';
    } catch (error) {
      return (error as { code: string }).code;
    }
  };

  it('come from the origin of the host they were sent to', () => {
    expect(write('portal.blue.example', 'https://portal.blue.example')).toBe('ok');
    expect(write('panel.example', 'https://panel.example')).toBe('ok');
    expect(write('portal.blue.example', 'https://panel.example')).toBe('cross_origin');
    expect(write('panel.example', 'https://portal.blue.example')).toBe('cross_origin');
    expect(write('portal.blue.example', 'http://portal.blue.example')).toBe('cross_origin');
  });
});

describe('a brand’s colours as CSS variables', () => {
  it('pass only #rrggbb values', () => {
    expect(brandStyle({ primaryColor: '#0f766e', accentColor: '#b45309' })).toEqual({
      '--brand-primary': '#0f766e',
      '--brand-accent': '#b45309',
    });
    expect(brandStyle({ primaryColor: 'red;x:y', accentColor: '#b45309' })).toBeNull();
    expect(brandStyle({ primaryColor: null, accentColor: null })).toBeNull();
  });
});
