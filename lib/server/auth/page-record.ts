import { notFound } from 'next/navigation';
import type { EntityManager } from '@mikro-orm/postgresql';
import { findRuntime } from '@/lib/server/runtime';
import type { TActor } from '@/lib/server/authz/actor';
import { DomainError } from '@/lib/server/errors/domain-error';
import { ZId } from '@/lib/shared/schemas/common';
import { requirePageActor } from './page-session';

/**
 * A record page's read (`/resellers/{id}`, …): the signed-in actor, then `read` — the
 * same scoped service the API answers with — on a fresh entity manager. Anything the
 * viewer may not read (outside its subtree, a missing grant, a malformed id) renders the
 * panel's 404, as the API answers 404: never another account's data, and no hint that
 * the record exists.
 */
export async function readPageRecord<T>(
  unverifiedId: string,
  read: (em: EntityManager, actor: TActor, id: string) => Promise<T>,
): Promise<{ actor: TActor; record: T }> {
  const actor = await requirePageActor();
  const runtime = findRuntime();
  if (!runtime || !ZId.safeParse(unverifiedId).success) notFound();
  const em = runtime.orm.em.fork();
  try {
    return { actor, record: await read(em, actor, unverifiedId) };
  } catch (error) {
    if (error instanceof DomainError && (error.kind === 'not_found' || error.kind === 'forbidden'))
      notFound();
    throw error;
  }
}
