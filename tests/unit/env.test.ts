import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EnvError, parseEnv, ZDatabaseEnv, ZEnv } from '@/lib/server/env';

const PRODUCTION = {
  DATABASE_URL: 'postgresql://panel@db.internal:5432/panel',
  AUTH_SECRET: 'k3Jq8vXz-0pLm2Nf7Rt5Wy9Bc4Hd6Gs1',
  ADMIN_EMAIL: 'Ops@Carrier.example',
  ADMIN_PASSWORD: 'correct horse battery',
};

function failure(source: Record<string, string | undefined>): EnvError {
  try {
    parseEnv(source);
  } catch (error) {
    if (error instanceof EnvError) return error;
    throw error;
  }
  throw new Error('expected parseEnv to fail');
}

describe('parseEnv', () => {
  it('needs nothing on the embedded default', () => {
    const env = parseEnv({});
    expect(env.PORT).toBe(3000);
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.AUTH_SECRET).toBeUndefined();
    expect(env.DATA_DIR).toBe('./data');
    expect(env.NODE_ENV).toBe('development');
  });

  it('treats empty values as unset', () => {
    const env = parseEnv({ PORT: '', DATABASE_URL: '  ', REDIS_URL: '' });
    expect(env.PORT).toBe(3000);
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.REDIS_URL).toBeUndefined();
  });

  it('accepts a full production environment and lower-cases the admin email', () => {
    const env = parseEnv({ ...PRODUCTION, PORT: '8080', REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(env.PORT).toBe(8080);
    expect(env.ADMIN_EMAIL).toBe('ops@carrier.example');
    expect(env.REDIS_URL).toBe('redis://127.0.0.1:6379');
  });

  it('takes SEED_DEMO as 0 or 1 (0 unless set), naming it otherwise', () => {
    expect(parseEnv(PRODUCTION).SEED_DEMO).toBe('0');
    expect(parseEnv({ ...PRODUCTION, SEED_DEMO: '1' }).SEED_DEMO).toBe('1');
    expect(failure({ ...PRODUCTION, SEED_DEMO: 'yes' }).message).toMatch(/SEED_DEMO/);
  });

  it('names a bad PORT on one line, with the value', () => {
    const error = failure({ PORT: '70000' });
    expect(error.variables).toEqual(['PORT']);
    expect(error.message).toBe(
      'Invalid configuration: PORT must be between 0 and 65535 (got "70000")',
    );
    expect(error.message).not.toContain('\n');
    expect(failure({ PORT: 'abc' }).message).toMatch(/^Invalid configuration: PORT /);
  });

  it('parses the per-IP sign-in budget, with defaults', () => {
    expect(parseEnv({})).toMatchObject({ LOGIN_IP_FAILURES: 100, LOGIN_IP_WINDOW_SECONDS: 900 });
    expect(parseEnv({ LOGIN_IP_FAILURES: '8', LOGIN_IP_WINDOW_SECONDS: '60' })).toMatchObject({
      LOGIN_IP_FAILURES: 8,
      LOGIN_IP_WINDOW_SECONDS: 60,
    });
    expect(failure({ LOGIN_IP_FAILURES: '0', LOGIN_IP_WINDOW_SECONDS: 'x' }).variables).toEqual([
      'LOGIN_IP_FAILURES',
      'LOGIN_IP_WINDOW_SECONDS',
    ]);
  });

  it('parses the handshakes checked at once, with a default', () => {
    expect(parseEnv({})).toMatchObject({ LIVE_MAX_HANDSHAKES: 500 });
    expect(parseEnv({ LIVE_MAX_HANDSHAKES: '5' })).toMatchObject({ LIVE_MAX_HANDSHAKES: 5 });
    expect(failure({ LIVE_MAX_HANDSHAKES: '0' }).variables).toEqual(['LIVE_MAX_HANDSHAKES']);
  });

  it('parses the handshakes that may wait, with a default; 0 queues none', () => {
    expect(parseEnv({})).toMatchObject({ LIVE_HANDSHAKE_QUEUE: 10_000 });
    expect(parseEnv({ LIVE_HANDSHAKE_QUEUE: '0' })).toMatchObject({ LIVE_HANDSHAKE_QUEUE: 0 });
    expect(failure({ LIVE_HANDSHAKE_QUEUE: '-1' }).variables).toEqual(['LIVE_HANDSHAKE_QUEUE']);
  });

  it('parses the entries the fan-out keeps for catch-up, with a default; 0 keeps none', () => {
    expect(parseEnv({})).toMatchObject({ LIVE_RECENT_ENTRIES: 20_000 });
    expect(parseEnv({ LIVE_RECENT_ENTRIES: '0' })).toMatchObject({ LIVE_RECENT_ENTRIES: 0 });
    expect(failure({ LIVE_RECENT_ENTRIES: 'many' }).variables).toEqual(['LIVE_RECENT_ENTRIES']);
  });

  it('requires AUTH_SECRET and the first admin when DATABASE_URL is set', () => {
    const error = failure({ DATABASE_URL: PRODUCTION.DATABASE_URL });
    expect(error.variables.sort()).toEqual(['ADMIN_EMAIL', 'ADMIN_PASSWORD', 'AUTH_SECRET']);
    expect(error.message).toContain('AUTH_SECRET is required when DATABASE_URL is set');
  });

  it('never echoes secrets back', () => {
    const error = failure({ ...PRODUCTION, AUTH_SECRET: 'short-secret' });
    expect(error.variables).toEqual(['AUTH_SECRET']);
    expect(error.message).not.toContain('short-secret');
    // Long enough is not enough: one key held down, or a weak first admin's password.
    const guessable = failure({
      ...PRODUCTION,
      AUTH_SECRET: 'x'.repeat(40),
      ADMIN_PASSWORD: 'aaaaaaaaaaaa',
    });
    expect(guessable.variables.sort()).toEqual(['ADMIN_PASSWORD', 'AUTH_SECRET']);
    expect(guessable.message).toContain('AUTH_SECRET must be random');
    expect(guessable.message).toContain('ADMIN_PASSWORD must not be one character repeated');
    expect(guessable.message).not.toContain('xxxx');
    expect(guessable.message).not.toContain('aaaa');
    const urlError = failure({ DATABASE_URL: 'mysql://user:hunter2@db/panel' });
    expect(urlError.message).toContain('DATABASE_URL must be a postgres');
    expect(urlError.message).not.toContain('hunter2');
  });

  it('refuses plain http, or none said, for a production panel on its own database, but on this machine', () => {
    const production = { ...PRODUCTION, NODE_ENV: 'production' };
    const error = failure({ ...production, PUBLIC_URL: 'http://panel.carrier.example' });
    expect(error.variables).toEqual(['PUBLIC_URL']);
    expect(error.message).toContain('PUBLIC_URL must be https:// in production');
    for (const url of [
      'https://panel.carrier.example',
      'http://localhost:3000',
      'http://127.0.0.1:3000',
    ]) {
      expect(parseEnv({ ...production, PUBLIC_URL: url }).PUBLIC_URL).toBe(url);
    }
    // A malformed one is named, not thrown on.
    expect(failure({ ...production, PUBLIC_URL: 'http://' }).variables).toEqual(['PUBLIC_URL']);
    // Unset, it is not taken as this machine's: the panel listens on every interface.
    const unset = failure(production);
    expect(unset.variables).toEqual(['PUBLIC_URL']);
    expect(unset.message).toContain(
      'PUBLIC_URL is required in production when DATABASE_URL is set',
    );
    // A trial on the embedded database, or development, is not refused.
    expect(parseEnv({ PUBLIC_URL: 'http://panel.lan', NODE_ENV: 'production' }).PUBLIC_URL).toBe(
      'http://panel.lan',
    );
  });

  it('rejects a public URL that is not http(s) and strips a trailing slash', () => {
    expect(failure({ PUBLIC_URL: 'ftp://panel' }).variables).toEqual(['PUBLIC_URL']);
    expect(parseEnv({ PUBLIC_URL: 'https://panel.example/' }).PUBLIC_URL).toBe(
      'https://panel.example',
    );
  });

  it('takes SMTP as a URL or by parts, never both, and never echoes its secrets', () => {
    expect(parseEnv({}).SMTP_URL).toBeUndefined();
    expect(parseEnv({}).OUTBOX_POLL_MS).toBe(2_000);
    expect(parseEnv({ SMTP_URL: 'smtps://u:p@mail.example:465' }).SMTP_URL).toBe(
      'smtps://u:p@mail.example:465',
    );
    const parts = parseEnv({ SMTP_HOST: 'mail.example', SMTP_PORT: '2525' });
    expect([parts.SMTP_HOST, parts.SMTP_PORT]).toEqual(['mail.example', 2525]);
    const bad = failure({ SMTP_URL: 'http://user:hunter2@mail.example' });
    expect(bad.variables).toEqual(['SMTP_URL']);
    expect(bad.message).not.toContain('hunter2');
    expect(failure({ SMTP_URL: 'smtp://a', SMTP_HOST: 'b' }).variables).toEqual(['SMTP_HOST']);
    expect(failure({ SMTP_HOST: 'mail.example', SMTP_USER: 'u' }).variables).toEqual([
      'SMTP_PASSWORD',
    ]);
    expect(failure({ SMTP_PORT: '70000' }).variables).toEqual(['SMTP_PORT']);
    // Beside a URL (which carries its own), credentials would be ignored: refused instead.
    expect(
      failure({ SMTP_URL: 'smtp://mail.example', SMTP_USER: 'u', SMTP_PASSWORD: 'p' }).variables,
    ).toEqual(['SMTP_USER', 'SMTP_PASSWORD']);
  });

  it('wants ADMIN_EMAIL and ADMIN_PASSWORD together on the embedded default', () => {
    expect(failure({ ADMIN_EMAIL: 'a@b.example' }).variables).toEqual(['ADMIN_PASSWORD']);
  });

  it('runs one process unless WORKERS says more, and only a whole number from 1', () => {
    expect(parseEnv({}).WORKERS).toBe(1);
    const cluster = {
      ...PRODUCTION,
      NODE_ENV: 'production',
      PUBLIC_URL: 'https://panel.carrier.example',
      REDIS_URL: 'redis://127.0.0.1:6379',
    };
    expect(parseEnv({ ...cluster, WORKERS: '4' }).WORKERS).toBe(4);
    expect(failure({ WORKERS: '0' }).message).toBe(
      'Invalid configuration: WORKERS must be between 1 and 64 (got "0")',
    );
    expect(failure({ WORKERS: '1.5' }).variables).toEqual(['WORKERS']);
  });

  it('refuses several workers without PostgreSQL and Redis, naming what is missing', () => {
    const error = failure({ NODE_ENV: 'production', WORKERS: '2' });
    expect(error.variables.sort()).toEqual(['DATABASE_URL', 'REDIS_URL']);
    expect(error.message).toContain('DATABASE_URL is required when WORKERS is above 1');
    expect(error.message).toContain('REDIS_URL is required when WORKERS is above 1');
    const https = { PUBLIC_URL: 'https://panel.carrier.example' };
    expect(
      failure({ ...PRODUCTION, ...https, NODE_ENV: 'production', WORKERS: '2' }).variables,
    ).toEqual(['REDIS_URL']);
    // And not under the development server, whose compiler writes into one .next.
    const dev = { ...PRODUCTION, REDIS_URL: 'redis://127.0.0.1:6379', WORKERS: '2' };
    expect(failure(dev).variables).toEqual(['WORKERS']);
  });

  it('parses only the database part for operations commands', () => {
    expect(parseEnv({ DATABASE_URL: PRODUCTION.DATABASE_URL }, ZDatabaseEnv)).toEqual({
      DATABASE_URL: PRODUCTION.DATABASE_URL,
      DATA_DIR: './data',
    });
  });
});

describe('the configuration an operator is sent to', () => {
  // Every variable the panel reads, as lib/server/env.ts declares them.
  const read = Object.keys(ZEnv.shape).filter((name) => name !== 'NODE_ENV');
  const named = (text: string, pattern: RegExp) =>
    new Set([...text.matchAll(pattern)].map((match) => match[1]!));

  it('is whole in .env.example: every variable read, and no other', () => {
    const example = named(readFileSync('.env.example', 'utf8'), /^#?\s*([A-Z][A-Z0-9_]+)=/gm);
    expect(read.length).toBeGreaterThan(30);
    expect(read.filter((name) => !example.has(name))).toEqual([]);
    expect([...example].filter((name) => !read.includes(name))).toEqual([]);
  });

  it('is whole in the README’s table: every variable read, and no other', () => {
    const readme = readFileSync('README.md', 'utf8');
    const table = readme
      .split('\n')
      .filter((line) => /^\| `[A-Z]/.test(line))
      .map((line) => line.split('|')[1]!)
      .join(' ');
    const documented = named(table, /`([A-Z][A-Z0-9_]+)`/g);
    expect(read.filter((name) => !documented.has(name))).toEqual([]);
    expect([...documented].filter((name) => !read.includes(name))).toEqual([]);
  });
});
