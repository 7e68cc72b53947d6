import { describe, expect, it } from 'vitest';
import {
  contentSecurityPolicy,
  createNonce,
  securityHeaders,
} from '@/lib/server/http/security-headers';

/** The policy as `{ directive: [sources] }`. */
function directives(policy: string): Record<string, string[]> {
  return Object.fromEntries(
    policy.split(';').map((part) => {
      const [name, ...sources] = part.trim().split(/\s+/);
      return [name!, sources];
    }),
  );
}

const production = { publicUrl: 'https://panel.example', dev: false };

describe('security headers', () => {
  it('lets scripts run only with the nonce in production: no eval, no inline', () => {
    const policy = directives(contentSecurityPolicy('abc123==', production));
    expect(policy['script-src']).toEqual(["'self'", "'nonce-abc123=='", "'strict-dynamic'"]);
    expect(policy['style-src-elem']).toEqual(["'self'", "'nonce-abc123=='"]);
    expect(policy['style-src']).toEqual(["'self'", "'nonce-abc123=='"]);
    const everything = Object.values(policy).flat();
    expect(everything).not.toContain("'unsafe-eval'");
    expect(policy['script-src']).not.toContain("'unsafe-inline'");
    expect(policy['default-src']).toEqual(["'self'"]);
    expect(policy['object-src']).toEqual(["'none'"]);
    expect(policy['frame-ancestors']).toEqual(["'none'"]);
    expect(policy['base-uri']).toEqual(["'self'"]);
    expect(policy['form-action']).toEqual(["'self'"]);
  });

  it("allows React's eval and the dev overlay's styles in development only", () => {
    const policy = directives(contentSecurityPolicy('n0nce', { ...production, dev: true }));
    expect(policy['script-src']).toContain("'unsafe-eval'");
    expect(policy['script-src']).toContain("'nonce-n0nce'");
    expect(policy['style-src-elem']).toEqual(["'self'", "'unsafe-inline'"]);
  });

  it("lets the page reach its own socket: the public host's ws or wss origin", () => {
    expect(directives(contentSecurityPolicy('n', production))['connect-src']).toEqual([
      "'self'",
      'wss://panel.example',
    ]);
    expect(
      directives(contentSecurityPolicy('n', { publicUrl: 'http://localhost:3000', dev: false }))[
        'connect-src'
      ],
    ).toEqual(["'self'", 'ws://localhost:3000']);
  });

  it('sends HSTS only when the public address is https', () => {
    const secure = securityHeaders('n', production);
    expect(secure['Strict-Transport-Security']).toBe('max-age=31536000; includeSubDomains');
    const plain = securityHeaders('n', { publicUrl: 'http://localhost:3000', dev: false });
    expect(plain).not.toHaveProperty('Strict-Transport-Security');
    expect(plain).toMatchObject({
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'same-origin',
      'X-Frame-Options': 'DENY',
    });
  });

  it('keeps one policy per configuration: each answer carries its own nonce and origin', () => {
    const other = { publicUrl: 'http://127.0.0.1:4000', dev: true };
    for (let round = 0; round < 2; round++) {
      expect(contentSecurityPolicy('one', production)).toContain("'nonce-one'");
      expect(contentSecurityPolicy('two', production)).not.toContain("'nonce-one'");
      expect(directives(contentSecurityPolicy('n', other))['connect-src']).toEqual([
        "'self'",
        'ws://127.0.0.1:4000',
      ]);
      expect(directives(contentSecurityPolicy('n', production))['connect-src']).toEqual([
        "'self'",
        'wss://panel.example',
      ]);
    }
  });

  it('makes a fresh nonce each time, in the characters Next reads from the header', () => {
    // Past several refills of the pool the nonces are drawn from.
    const nonces = new Set(Array.from({ length: 1000 }, () => createNonce()));
    expect(nonces.size).toBe(1000);
    for (const nonce of nonces) expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
  });
});
