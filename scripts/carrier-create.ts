/**
 * `npm run carrier:create -- --name "Carrier B" --admin-email ops@carrier-b.example`
 * Adds a carrier (an isolated tenant) with its administrators group and first admin.
 * The password comes from --admin-password, else one is generated and printed once —
 * never from ADMIN_PASSWORD, the first carrier's bootstrap admin's (set on every host
 * with DATABASE_URL): each tenant's admin its own secret. Works on DATABASE_URL, or on
 * the embedded database (server stopped).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { EnvError, parseEnv, ZDatabaseEnv } from '@/lib/server/env';
import { startEmbeddedDatabase } from '@/lib/server/db/embedded';
import { migrate, openOrm, withMigrationLock } from '@/lib/server/db/orm';
import { createCarrier } from '@/lib/server/services/accounts/create-carrier';
import { mutate } from '@/lib/server/live/change-log';
import { User } from '@/lib/server/entities';
import { ZPassword } from '@/lib/shared/schemas/users';

const ZArgs = z.object({
  name: z.string('--name is required').trim().min(1, '--name is required').max(200),
  'admin-email': z.email('--admin-email must be an email address'),
  // The carrier's most privileged person: the rule every other password is held to.
  'admin-password': ZPassword.optional(),
});

async function main() {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const { values } = parseArgs({
    options: {
      name: { type: 'string' },
      'admin-email': { type: 'string' },
      'admin-password': { type: 'string' },
    },
  });
  const parsed = ZArgs.safeParse(values);
  if (!parsed.success)
    throw new Error(
      parsed.error.issues
        .map((issue) =>
          // The shared password rule's messages do not name the option: named here.
          issue.message.startsWith('--')
            ? issue.message
            : `--${String(issue.path[0])} ${issue.message}`,
        )
        .join('; '),
    );
  const args = parsed.data;
  const password = args['admin-password'] ?? randomBytes(12).toString('base64url');

  const env = parseEnv(process.env, ZDatabaseEnv);
  const embedded = env.DATABASE_URL ? undefined : await startEmbeddedDatabase(env.DATA_DIR);
  const url = env.DATABASE_URL ?? embedded!.url;
  const orm = await openOrm(url);
  try {
    await withMigrationLock(url, () => migrate(orm));
    const em = orm.em.fork();
    if (await em.count(User, { email: args['admin-email'].toLowerCase() })) {
      throw new Error(`a user with the email ${args['admin-email']} exists already`);
    }
    const { carrier } = await mutate(em, null, async (tx, record) => {
      const created = await createCarrier(tx, {
        name: args.name,
        adminEmail: args['admin-email'],
        adminPassword: password,
      });
      record({
        resource: 'carriers',
        entityId: created.carrier.id,
        op: 'created',
        version: created.carrier.version,
        before: null,
        after: { id: created.carrier.id, name: created.carrier.name },
        scopeBefore: null,
        scopeAfter: created.carrier.path,
      });
      return created;
    });
    console.log(`carrier created: ${carrier.name} (${carrier.id})`);
    console.log(
      `admin: ${args['admin-email'].toLowerCase()}` +
        (args['admin-password'] ? '' : ` / ${password}`),
    );
  } finally {
    await orm.close(true);
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(
    `carrier:create: ${error instanceof EnvError ? error.message : (error as Error).message}`,
  );
  process.exit(1);
});
