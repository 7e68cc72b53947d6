import { cache } from 'react';
import { redirect } from 'next/navigation';
import { cookies, headers } from 'next/headers';
import { requestHostname } from '@/lib/server/http/request-host';
import { PAGE_PATH_HEADER } from '@/lib/server/http/page-path';
import { safeReturnPath } from '@/lib/shared/return-path';
import { findRuntime } from '@/lib/server/runtime';
import type { TActor } from '@/lib/server/authz/actor';
import { sessionTokenFrom } from './session';
import { enter, GATE_ORDER, type TDoorResult, type TPassableGate } from './door';

/** Where each gate the door can hold a signed-in person at sends them. */
export const GATE_PAGES = {
  password_change_required: '/password',
  mfa_enrolment_required: '/account/security',
} as const;

/** The session cookie of the page request being rendered, through the door. */
function enterPage(pass: readonly TPassableGate[] = []): Promise<TDoorResult | null> {
  return enterPageOnce(pass.join(' '));
}

/**
 * Once per request and set of gates passed: the layout, the page and the brand (the
 * root layout's) each ask, and the answer must be one.
 */
const enterPageOnce = cache(async (passed: string): Promise<TDoorResult | null> => {
  const pass = (passed ? passed.split(' ') : []) as TPassableGate[];
  const runtime = findRuntime();
  if (!runtime) return null;
  const [store, requestHeaders] = await Promise.all([cookies(), headers()]);
  const token = sessionTokenFrom((name) => store.get(name)?.value, runtime.config.publicUrl);
  const hostname = requestHostname(requestHeaders.get('host'));
  return enter(
    runtime.orm.em.fork(),
    { kind: 'session-cookie', token, hostname },
    { authSecret: runtime.config.authSecret, pass },
  );
});

/** The actor of the page request being rendered, or null (not signed in, revoked, or held at a gate). */
export async function getPageActor(): Promise<TActor | null> {
  const result = await enterPage();
  return result?.ok ? result.entry.actor : null;
}

/**
 * The actor, or a redirect: to sign in, or to the one screen a gate leaves open (the
 * forced password change, MFA enrolment). Every panel page calls it itself: Next renders
 * a layout and its page in parallel, so the layout's check does not guard the page.
 */
export async function requirePageActor(): Promise<TActor> {
  const result = await enterPage();
  if (result?.ok) return result.entry.actor;
  if (result && result.refusal.code !== 'unauthenticated')
    redirect(GATE_PAGES[result.refusal.code]);
  // Back to this page once signed in (a link from an e-mail, a session that ended).
  const next = safeReturnPath((await headers()).get(PAGE_PATH_HEADER));
  redirect(next && next !== '/' ? `/login?next=${encodeURIComponent(next)}` : '/login');
}

/**
 * For a gate's own screen: the signed-in person (never a view-as: the screen is about
 * one's own credentials), whether it is held at that gate right now, and whether a view-as
 * is open (one's own credentials cannot change then: the view is read-only); a redirect to
 * sign in, or to another gate's screen, otherwise.
 */
export async function requireGatePage(
  gate: TPassableGate,
): Promise<{ actor: TActor; held: boolean; viewingAs: boolean }> {
  // The gates are passed in order (the password first): this screen opens past its own
  // gate and the later ones, never past an earlier one.
  const result = await enterPage(GATE_ORDER.slice(GATE_ORDER.indexOf(gate)));
  if (!result || (!result.ok && result.refusal.code === 'unauthenticated')) redirect('/login');
  if (!result.ok) redirect(GATE_PAGES[result.refusal.code as TPassableGate]);
  const strict = await enterPage();
  const held = Boolean(strict && !strict.ok && strict.refusal.code === gate);
  return {
    actor: result.entry.real,
    held,
    viewingAs: Boolean(result.entry.actor.impersonatorUserId),
  };
}
