import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The session-signing secret of the embedded default: generated on first start and kept
 * in `<dataDir>/auth-secret` (mode 0600), so the README's first command needs no
 * configuration and sessions survive a restart. With DATABASE_URL, AUTH_SECRET is
 * required instead (lib/server/env.ts).
 */
export async function loadOrCreateSecret(dataDir: string): Promise<string> {
  const file = path.resolve(dataDir, 'auth-secret');
  const existing = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (existing.length >= 32) return existing;
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  await writeFile(file, secret + '\n', { mode: 0o600 });
  return secret;
}

/** Where the generated demo admin login is kept after it is printed once. */
export async function keepFirstLogin(dataDir: string, email: string, password: string) {
  const file = path.resolve(dataDir, 'first-login.txt');
  await writeFile(file, `email: ${email}\npassword: ${password}\n`, { mode: 0o600 });
  return file;
}
