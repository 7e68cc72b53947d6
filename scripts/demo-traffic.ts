/**
 * `npm run demo:traffic` — plausible calls for the demo's customers, posted to a running
 * panel (`POST /api/v1/usage`) every few seconds, so a newcomer sees balances, traffic
 * and margins move. Options: `--url` (PANEL_URL, default http://localhost:$PORT or 3000),
 * `--token` (PANEL_TOKEN: an API token with `usage:create` and `customers:read`, which
 * finds the customers to call for — a switch's token, holding `usage:create` alone, is
 * refused at that step), else `--email` and
 * `--password` (ADMIN_EMAIL / ADMIN_PASSWORD; the demo admin by default — the embedded
 * demo prints its password on first start, and keeps it in `$DATA_DIR/first-login.txt`,
 * read when no password is given), `--calls` per batch (20), `--interval`
 * seconds (3), `--once` for a single batch. Talks to the API only, as a switch would.
 * Only a panel on the embedded demo database is sent calls, unless `--force`: they are
 * rated and billed like real ones.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DEMO_ADMIN_EMAIL } from '@/lib/server/db/seed';
import type { TUsagePosted, TUsageRecordInput } from '@/lib/shared/schemas/usage';

const ZArgs = z.object({
  url: z.url('--url must be the panel’s address, such as http://localhost:3000'),
  token: z.string().optional(),
  email: z.string(),
  password: z.string().optional(),
  calls: z.coerce.number().int().min(1).max(10_000),
  interval: z.coerce.number().positive(),
  once: z.boolean(),
});

/** Where the demo's calls go, as the demo's upstream card prices them (seed-cards.ts). */
const DESTINATIONS: { weight: number; number: () => string }[] = [
  { weight: 5, number: () => `1212${digits(7)}` },
  { weight: 4, number: () => `1${pick(['305', '415', '646'])}${digits(7)}` },
  { weight: 6, number: () => `44${pick(['20', '161', '131'])}${digits(7)}` },
  { weight: 5, number: () => `447${digits(9)}` },
  { weight: 1, number: () => `441481${digits(6)}` },
  { weight: 4, number: () => `33${pick(['1', '4', '5'])}${digits(8)}` },
  { weight: 3, number: () => `336${digits(8)}` },
  { weight: 3, number: () => `49${pick(['30', '89', '40'])}${digits(7)}` },
  { weight: 2, number: () => `4915${digits(8)}` },
  { weight: 2, number: () => `91${digits(10)}` },
  // Somewhere no card routes: shows as unrated `no_route`.
  { weight: 1, number: () => `888${digits(7)}` },
];

function digits(count: number): string {
  return Array.from({ length: count }, () => Math.floor(Math.random() * 10)).join('');
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

function weighted<T extends { weight: number }>(items: readonly T[]): T {
  let left = Math.random() * items.reduce((sum, item) => sum + item.weight, 0);
  for (const item of items) if ((left -= item.weight) < 0) return item;
  return items.at(-1)!;
}

/** Call lengths as a switch sees them: some never answered, most a few minutes. */
function duration(): number {
  const roll = Math.random();
  if (roll < 0.12) return 0;
  if (roll < 0.3) return 1 + Math.floor(Math.random() * 30);
  if (roll < 0.95) return 30 + Math.floor(-Math.log(1 - Math.random()) * 150);
  return 600 + Math.floor(Math.random() * 2400);
}

/** The database the panel at `url` runs on, from its `/api/health`; naming the URL when it cannot tell. */
async function databaseKind(url: string): Promise<string> {
  const health = `${url.replace(/\/$/, '')}/api/health`;
  const answer = await fetch(health).catch((error: unknown) => {
    throw new Error(
      `${health}: no answer (${(error as Error).message}); is the panel running there?`,
    );
  });
  const body = (await answer.json().catch(() => null)) as { database?: { kind?: string } } | null;
  if (!body?.database?.kind) {
    throw new Error(
      `${health} answered ${answer.status}, not the panel's health: is --url the panel?`,
    );
  }
  return body.database.kind;
}

async function main() {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      email: { type: 'string' },
      password: { type: 'string' },
      calls: { type: 'string' },
      interval: { type: 'string' },
      once: { type: 'boolean' },
      force: { type: 'boolean' },
    },
  });
  const parsed = ZArgs.safeParse({
    url: values.url ?? process.env.PANEL_URL ?? `http://localhost:${process.env.PORT || 3000}`,
    token: values.token ?? (process.env.PANEL_TOKEN || undefined),
    email: values.email ?? (process.env.ADMIN_EMAIL || DEMO_ADMIN_EMAIL),
    password: values.password ?? (process.env.ADMIN_PASSWORD || firstLoginPassword()),
    calls: values.calls ?? '20',
    interval: values.interval ?? '3',
    once: values.once ?? false,
  });
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join('; '));
  const args = parsed.data;
  const api = `${args.url.replace(/\/$/, '')}/api/v1`;
  // Its calls are rated and move balances: a panel on a database of its own (a real
  // carrier's, most likely, when this runs with a production .env) is left alone unless
  // asked for by name.
  const kind = await databaseKind(args.url);
  if (kind !== 'embedded' && !values.force) {
    throw new Error(
      `${args.url} runs on a ${kind} database, not the embedded demo: its calls would be rated and billed. Pass --force to post them anyway.`,
    );
  }

  let token = args.token;
  if (!token) {
    if (!args.password) {
      throw new Error(
        'Give --token (or PANEL_TOKEN), or the admin’s --password (or ADMIN_PASSWORD): the embedded demo printed it on its first start, and keeps it in first-login.txt in its data folder.',
      );
    }
    const answer = await fetch(`${api}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: args.email, password: args.password, name: 'demo traffic' }),
    });
    if (!answer.ok)
      throw new Error(`sign-in as ${args.email}: ${answer.status} ${await answer.text()}`);
    token = ((await answer.json()) as { token: string }).token;
  }
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

  const customers: { id: string; name: string }[] = [];
  for (let cursor: string | null = ''; cursor !== null;) {
    const answer = await fetch(`${api}/customers?limit=500${cursor ? `&cursor=${cursor}` : ''}`, {
      headers,
    });
    if (!answer.ok) throw new Error(`GET /customers: ${answer.status} ${await answer.text()}`);
    const page = (await answer.json()) as {
      items: { id: string; name: string }[];
      nextCursor: string | null;
    };
    customers.push(...page.items);
    cursor = page.nextCursor;
  }
  if (!customers.length) throw new Error('No customers in scope to make calls for.');
  // Some customers call more than others.
  const callers = customers.map((customer, index) => ({ ...customer, weight: 1 + (index % 4) }));
  console.log(
    `demo traffic: ${customers.length} customers, ${args.calls} calls every ${args.interval} s → ${api}/usage`,
  );

  let serial = 0;
  const run = `${Date.now().toString(36)}`;
  for (;;) {
    const now = Date.now();
    const records: TUsageRecordInput[] = Array.from({ length: args.calls }, () => ({
      id: `demo-${run}-${++serial}`,
      accountId: weighted(callers).id,
      number: weighted(DESTINATIONS).number(),
      // Started within the last interval.
      startedAt: new Date(now - Math.floor(Math.random() * args.interval * 1000)).toISOString(),
      seconds: duration(),
    }));
    const answer = await fetch(`${api}/usage`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ records }),
    });
    if (!answer.ok) {
      console.error(`POST /usage: ${answer.status} ${(await answer.text()).slice(0, 300)}`);
    } else {
      const posted = (await answer.json()) as TUsagePosted;
      const reasons = Object.entries(posted.unratedByReason)
        .map(([reason, count]) => `${reason} ${count}`)
        .join(', ');
      console.log(
        `${new Date().toISOString()}  rated ${posted.rated}, unrated ${posted.unrated}${reasons ? ` (${reasons})` : ''}`,
      );
    }
    if (args.once) break;
    await new Promise((resolve) => setTimeout(resolve, args.interval * 1000));
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});

/**
 * The demo admin's password as the embedded demo kept it on its first start
 * (`$DATA_DIR/first-login.txt`, `keepFirstLogin`), if it is there: the README's
 * `npm run demo:traffic` then needs nothing more on the demo it is for.
 */
function firstLoginPassword(): string | undefined {
  const file = path.resolve(process.env.DATA_DIR || './data', 'first-login.txt');
  if (!existsSync(file)) return undefined;
  return /^password: (.+)$/m.exec(readFileSync(file, 'utf8'))?.[1]?.trim() || undefined;
}
