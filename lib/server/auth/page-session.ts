import { redirect } from 'next/navigation';
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
  const resolved = await actorFromSessionToken(em, token, runtime.config.authSecret);
  return resolved ? applyImpersonation(em, resolved.actor, resolved.openView) : null;
}

/**
 * The actor, or a redirect to the login page. Every panel page calls it itself: Next
 * renders a layout and its page in parallel, so the layout's check does not guard the page.
 */
export async function requirePageActor(): Promise<TActor> {
  const actor = await getPageActor();
  if (!actor) redirect('/login');
  return actor;
}
