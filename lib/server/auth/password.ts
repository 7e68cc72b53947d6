import { hash, verify } from '@node-rs/argon2';

/** argon2id with the library's defaults (19 MiB, 2 passes): OWASP's baseline. */
export async function hashPassword(plain: string): Promise<string> {
  return hash(plain);
}

/**
 * Verifies a password. When there is no stored hash (unknown email) it still spends the
 * time of one verification, so a login's duration does not tell whether an email exists.
 */
export async function verifyPassword(stored: string | null, plain: string): Promise<boolean> {
  if (!stored) {
    await verify(await dummyHash(), plain).catch(() => false);
    return false;
  }
  return verify(stored, plain).catch(() => false);
}

let dummy: Promise<string> | undefined;
function dummyHash(): Promise<string> {
  dummy ??= hash('not-a-real-password-' + Math.random());
  return dummy;
}
