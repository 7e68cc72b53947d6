import { cookies } from 'next/headers';
import { findRuntime } from '@/lib/server/runtime';
import type { TActor } from '@/lib/server/authz/actor';
import { actorFromSessionToken, sessionTokenFrom } from './session';

/** The actor of the page request being rendered, or null (not signed in, or revoked). */
export async function getPageActor(): Promise<TActor | null> {
  const runtime = findRuntime();
  if (!runtime) return null;
  const store = await cookies();
  const token = sessionTokenFrom((name) => store.get(name)?.value);
  return actorFromSessionToken(runtime.orm.em.fork(), token, runtime.config.authSecret);
}
