import { cookies } from 'next/headers';
import { findRuntime } from '@/lib/server/runtime';
import type { TActor } from '@/lib/server/authz/actor';
import { actorFromSessionToken, sessionTokenFrom } from './session';
import { applyImpersonation } from '@/lib/server/authz/impersonation';

/** The actor of the page request being rendered, or null (not signed in, or revoked). */
export async function getPageActor(): Promise<TActor | null> {
  const runtime = findRuntime();
  if (!runtime) return null;
  const store = await cookies();
  const token = sessionTokenFrom((name) => store.get(name)?.value);
  const em = runtime.orm.em.fork();
  const real = await actorFromSessionToken(em, token, runtime.config.authSecret);
  return real ? applyImpersonation(em, real) : null;
}
