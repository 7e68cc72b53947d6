import { z } from 'zod';
import { ZHostname } from '@/lib/shared/schemas/brands';
import { ZPassword } from '@/lib/shared/schemas/users';

/**
 * The environment, parsed once with zod. The custom server calls `loadEnv()` at start
 * and puts the result (plus what it resolves: the embedded database URL, the generated
 * secret) on the shared runtime; route handlers never read process.env themselves.
 */

/** `FOO=` in a shell or .env file means "not set", not "set to the empty string". */
const unsetIfEmpty = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

const optional = <T extends z.ZodType>(schema: T) => z.preprocess(unsetIfEmpty, schema.optional());

/** A whole number between `min` and `max`, `fallback` when unset; the error names the range. */
const wholeNumber = (min: number, max: number, fallback: number) =>
  z.preprocess(
    unsetIfEmpty,
    z.coerce
      .number({ message: 'must be a number' })
      .int('must be a whole number')
      .min(min, `must be between ${min} and ${max}`)
      .max(max, `must be between ${min} and ${max}`)
      .default(fallback),
  );

const ZPostgresUrl = z
  .string()
  .refine((value) => /^postgres(ql)?:\/\/[^\s]+$/.test(value) && URL.canParse(value), {
    message: 'must be a postgres:// or postgresql:// URL',
  });

const ZRedisUrl = z
  .string()
  .refine((value) => /^rediss?:\/\/[^\s]+$/.test(value) && URL.canParse(value), {
    message: 'must be a redis:// or rediss:// URL',
  });

const ZSmtpUrl = z
  .string()
  .refine((value) => /^smtps?:\/\/[^\s]+$/.test(value) && URL.canParse(value), {
    message: 'must be an smtp:// or smtps:// URL',
  });

const FIELDS = {
  NODE_ENV: z.preprocess(
    unsetIfEmpty,
    z.enum(['development', 'production', 'test']).default('development'),
  ),
  PORT: z.preprocess(
    unsetIfEmpty,
    z.coerce
      .number({ message: 'must be a port number' })
      .int('must be a whole number')
      .min(0, 'must be between 0 and 65535')
      .max(65535, 'must be between 0 and 65535')
      .default(3000),
  ),
  HOST: optional(z.string().min(1)),
  PUBLIC_URL: optional(
    z
      .string()
      .refine((value) => /^https?:\/\//.test(value) && URL.canParse(value), {
        message: 'must be an http:// or https:// URL',
      })
      .transform((value) => value.replace(/\/+$/, '')),
  ),
  DATABASE_URL: optional(ZPostgresUrl),
  REDIS_URL: optional(ZRedisUrl),
  AUTH_SECRET: optional(
    z
      .string()
      .min(32, 'must be at least 32 characters')
      // Thirty-two of one key signs every session with a secret anyone guesses.
      .refine(
        (value) => new Set(value).size >= 8,
        'must be random (at least 8 different characters)',
      ),
  ),
  /** Bearer token for `/api/metrics`; without it the endpoint is off. */
  METRICS_TOKEN: optional(z.string().min(16, 'must be at least 16 characters')),
  /**
   * Outgoing mail (lib/server/services/notifications/mail-settings.ts): `SMTP_URL`, or
   * `SMTP_HOST` with the others; without either the outbox keeps its mail pending.
   */
  SMTP_URL: optional(ZSmtpUrl),
  SMTP_HOST: optional(z.string().regex(/^[^\s/:]+$/, 'must be a host name')),
  SMTP_PORT: optional(
    z.coerce
      .number({ message: 'must be a number' })
      .int('must be a whole number')
      .min(1, 'must be between 1 and 65535')
      .max(65535, 'must be between 1 and 65535'),
  ),
  SMTP_USER: optional(z.string()),
  SMTP_PASSWORD: optional(z.string()),
  MAIL_FROM: optional(z.string().min(3).max(320)),
  /** How often the outbox looks for mail to send (only while SMTP is configured). */
  OUTBOX_POLL_MS: wholeNumber(100, 3_600_000, 2_000),
  LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])),
  LOG_FORMAT: optional(z.enum(['json', 'pretty'])),
  /**
   * Any value: an error's stack on the pretty log's lines and on a failed start (both
   * read it straight from the process: observability/logger.ts, server/index.ts).
   */
  DEBUG: optional(z.string()),
  ADMIN_EMAIL: optional(
    z.email('must be an email address').transform((value) => value.toLowerCase()),
  ),
  /** The first carrier admin's: held to the rule every other password is held to. */
  ADMIN_PASSWORD: optional(ZPassword),
  DATA_DIR: z.preprocess(unsetIfEmpty, z.string().default('./data')),
  /**
   * `1`: an empty PostgreSQL database gets the demo carrier the embedded one gets (a
   * demo or a test install on a real server; e2e uses it). Never touches existing data.
   */
  SEED_DEMO: z.preprocess(unsetIfEmpty, z.enum(['0', '1']).default('0')),
  LOGIN_FREE_FAILURES: wholeNumber(1, 100, 3),
  LOGIN_LOCK_FAILURES: wholeNumber(1, 1000, 10),
  LOGIN_BASE_DELAY_MS: wholeNumber(0, 60000, 1000),
  LOGIN_LOCK_SECONDS: wholeNumber(1, 86400, 900),
  /** Failed sign-ins per client IP and window across all emails (password spraying). */
  LOGIN_IP_FAILURES: wholeNumber(1, 100000, 100),
  LOGIN_IP_WINDOW_SECONDS: wholeNumber(1, 86400, 900),
  /**
   * Failed sign-ins per email and window across every address it has not signed in from
   * lately (a botnet guessing one password); its known addresses never spend it.
   */
  LOGIN_ACCOUNT_FAILURES: wholeNumber(1, 100000, 30),
  LOGIN_ACCOUNT_WINDOW_SECONDS: wholeNumber(1, 86400, 3600),
  /** How long an address an email signed in from stays known (days). */
  LOGIN_KNOWN_ADDRESS_DAYS: wholeNumber(1, 3650, 90),
  /**
   * Reverse proxies in front of the panel that append to X-Forwarded-For (a TLS proxy, a
   * load balancer): the client's address and Host are read through that many
   * (lib/server/http/forwarded.ts). 0: none trusted, the connection's peer is the client.
   */
  TRUST_PROXY_HOPS: wholeNumber(0, 10, 0),
  IMPERSONATION_MINUTES: wholeNumber(1, 480, 30),
  EVENTS_RETENTION_DAYS: wholeNumber(1, 365, 7),
  /**
   * How long an idle HTTP connection stays open for its next request. It must outlast the
   * idle timeout of whatever pools connections in front of the panel (a load balancer, an
   * API client's agent): when the panel closes first, a request sent at that moment is
   * lost with ECONNRESET. Node's own 5 s is shorter than all of them.
   */
  HTTP_KEEP_ALIVE_SECONDS: wholeNumber(1, 3_600, 65),
  /** The fan-out's safety poll; commits wake it at once (nudge, NOTIFY) regardless. */
  LIVE_POLL_MS: wholeNumber(100, 3_600_000, 5_000),
  /**
   * Socket handshakes checked against the database at once; the next
   * `LIVE_HANDSHAKE_QUEUE` wait their turn (15 s at most), and more are refused with
   * `unavailable` and a retry hint, and those clients come back
   * (server/handshake-gate.ts). More at once only queue on the database pool instead.
   */
  LIVE_MAX_HANDSHAKES: wholeNumber(1, 100_000, 500),
  /**
   * A waiting handshake holds its connection and no more, while a refused one costs its
   * connection again on each retry: 10,000 lets a storm of that many sockets back with no
   * refusal (server/handshake-gate.ts has the bench's figures). 0 refuses all past the limit.
   */
  LIVE_HANDSHAKE_QUEUE: wholeNumber(0, 1_000_000, 10_000),
  /**
   * Live sockets one person may hold in this process (tabs, scripts); the next handshake
   * is refused `unavailable` with a retry hint. Each socket is sent every event its person
   * may see: one token opening thousands made the fan-out's cost the attacker's to set.
   */
  LIVE_SOCKETS_PER_PERSON: wholeNumber(1, 1_000_000, 50),
  /**
   * Log entries the fan-out keeps after passing them, over all carriers, for catch-up to
   * page from without reading the log again (lib/server/live/recent-log.ts): about 4–5 KB
   * of heap each (an account's change, before and after, 3.7 KB parsed, and its decided
   * audience), so up to about 100 MB at the default. 0 keeps none (every page is read
   * from the log).
   */
  LIVE_RECENT_ENTRIES: wholeNumber(0, 1_000_000, 20_000),
  RESELLER_DEPTH_LIMIT: wholeNumber(1, 20, 4),
  /**
   * Other hostnames the panel itself answers on, comma-separated (an internal name, an old
   * one). With `PUBLIC_URL`'s they are the panel's own: no brand may claim them, since a
   * brand's hostname signs in only its own subtree (issue 19) and would lock everyone
   * else out of the panel on that name.
   */
  PANEL_HOSTNAMES: optional(
    z
      .string()
      .transform((value) => value.split(','))
      .pipe(z.array(ZHostname).min(1)),
  ),
  /**
   * Server processes on this machine (server/cluster.ts): 1 is one plain process; more
   * puts a primary holding the port in front of that many workers.
   */
  WORKERS: wholeNumber(1, 64, 1),
};

/** Names of this machine: a panel there is reached over no network. */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export const ZEnv = z.object(FIELDS).superRefine((env, ctx) => {
  if (env.DATABASE_URL && !env.AUTH_SECRET) {
    ctx.addIssue({
      code: 'custom',
      path: ['AUTH_SECRET'],
      message: 'is required when DATABASE_URL is set (at least 32 random characters)',
    });
  }
  if (env.DATABASE_URL && !env.ADMIN_EMAIL) {
    ctx.addIssue({
      code: 'custom',
      path: ['ADMIN_EMAIL'],
      message: 'is required when DATABASE_URL is set (the first carrier admin)',
    });
  }
  if (env.DATABASE_URL && !env.ADMIN_PASSWORD) {
    ctx.addIssue({
      code: 'custom',
      path: ['ADMIN_PASSWORD'],
      message: 'is required when DATABASE_URL is set (the first carrier admin)',
    });
  }
  // A production panel on its own database answers people over the network: over plain
  // http its sign-ins and session cookies would cross it in cleartext (no Secure cookie,
  // no HSTS). This machine's own address (a local trial, a proxy on the same host) may.
  // Unset, it would be http://localhost while the panel listens on every interface and
  // answers any Host: the same cleartext sign-ins, so it must be said.
  if (env.NODE_ENV === 'production' && env.DATABASE_URL && !env.PUBLIC_URL) {
    ctx.addIssue({
      code: 'custom',
      path: ['PUBLIC_URL'],
      message:
        'is required in production when DATABASE_URL is set: the https:// address people use (http://localhost:PORT for this machine alone)',
    });
  }
  if (
    env.NODE_ENV === 'production' &&
    env.DATABASE_URL &&
    env.PUBLIC_URL?.startsWith('http:') &&
    // A malformed one is named by its own check above (which does not stop this one).
    URL.canParse(env.PUBLIC_URL) &&
    !LOOPBACK.has(new URL(env.PUBLIC_URL).hostname)
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['PUBLIC_URL'],
      message:
        'must be https:// in production (sign-ins and session cookies would travel in cleartext), unless it names this machine (localhost)',
    });
  }
  // Several workers share one database and one Redis: the embedded PGlite serves a
  // single process, and without the adapter presence and revocation stay in one worker.
  if (env.WORKERS > 1 && !env.DATABASE_URL) {
    ctx.addIssue({
      code: 'custom',
      path: ['DATABASE_URL'],
      message: 'is required when WORKERS is above 1 (the embedded database serves one process)',
    });
  }
  if (env.WORKERS > 1 && !env.REDIS_URL) {
    ctx.addIssue({
      code: 'custom',
      path: ['REDIS_URL'],
      message: 'is required when WORKERS is above 1 (the workers share sockets through Redis)',
    });
  }
  if (env.WORKERS > 1 && env.NODE_ENV !== 'production') {
    ctx.addIssue({
      code: 'custom',
      path: ['WORKERS'],
      message: 'above 1 needs the production server (npm start): dev servers would share .next',
    });
  }
  if (env.SMTP_URL && env.SMTP_HOST) {
    ctx.addIssue({
      code: 'custom',
      path: ['SMTP_HOST'],
      message: 'must not be set with SMTP_URL (one names the server)',
    });
  }
  // The URL carries its own credentials: these beside it were ignored without a word.
  for (const name of ['SMTP_USER', 'SMTP_PASSWORD'] as const) {
    if (env.SMTP_URL && env[name]) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message:
          'must not be set with SMTP_URL (put the credentials in the URL: smtp://user:password@host)',
      });
    }
  }
  if (Boolean(env.SMTP_USER) !== Boolean(env.SMTP_PASSWORD) && env.SMTP_HOST) {
    ctx.addIssue({
      code: 'custom',
      path: [env.SMTP_USER ? 'SMTP_PASSWORD' : 'SMTP_USER'],
      message: 'must be set together with ' + (env.SMTP_USER ? 'SMTP_USER' : 'SMTP_PASSWORD'),
    });
  }
  if (Boolean(env.ADMIN_EMAIL) !== Boolean(env.ADMIN_PASSWORD) && !env.DATABASE_URL) {
    const missing = env.ADMIN_EMAIL ? 'ADMIN_PASSWORD' : 'ADMIN_EMAIL';
    ctx.addIssue({
      code: 'custom',
      path: [missing],
      message: 'must be set together with ' + (env.ADMIN_EMAIL ? 'ADMIN_EMAIL' : 'ADMIN_PASSWORD'),
    });
  }
});

export type TEnv = z.infer<typeof ZEnv>;

/** Just what reaching the database needs (`npm run db:migrate`, operations commands). */
export const ZDatabaseEnv = z.object({
  DATABASE_URL: FIELDS.DATABASE_URL,
  DATA_DIR: FIELDS.DATA_DIR,
});

export class EnvError extends Error {
  constructor(
    readonly variables: string[],
    message: string,
  ) {
    super(message);
    this.name = 'EnvError';
  }
}

/**
 * Parses the environment. Throws `EnvError` whose message is one line naming every bad
 * variable, e.g. `PORT must be between 0 and 65535 (got "70000")`. Secrets are never
 * echoed back.
 */
export function parseEnv(source: Record<string, string | undefined>): TEnv;
export function parseEnv<T extends z.ZodType>(
  source: Record<string, string | undefined>,
  schema: T,
): z.infer<T>;
export function parseEnv(source: Record<string, string | undefined>, schema: z.ZodType = ZEnv) {
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  const secret = new Set([
    'AUTH_SECRET',
    'ADMIN_PASSWORD',
    'DATABASE_URL',
    'REDIS_URL',
    'METRICS_TOKEN',
    'SMTP_URL',
    'SMTP_PASSWORD',
  ]);
  const parts = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? 'environment');
    const raw = source[name];
    const shown = raw === undefined || secret.has(name) ? '' : ` (got ${JSON.stringify(raw)})`;
    return `${name} ${issue.message}${shown}`;
  });
  const variables = result.error.issues.map((issue) => String(issue.path[0]));
  throw new EnvError(variables, `Invalid configuration: ${parts.join('; ')}`);
}
