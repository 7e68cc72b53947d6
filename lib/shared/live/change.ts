import { z } from 'zod';

/** The resources whose changes travel live (DESIGN §3 resource names). */
export const LIVE_RESOURCES = [
  'resellers',
  'customers',
  'users',
  'groups',
  'cards',
  'assignments',
  // Issue 19: an account's statements (scope: the account's own path).
  'statements',
] as const;
export type TLiveResource = (typeof LIVE_RESOURCES)[number];

/**
 * What an envelope may be about: the live resources, the viewer's own notices
 * (`notifications.created`, `notifications.updated` when some were marked read), which
 * reach their recipient alone and no list of anyone else's, `brands.refetch` (a brand
 * on the viewer's path changed: the pages render again) and `audit.refetch` (a change in
 * the viewer's audit that nothing else told them of: the audit reads again).
 */
export const ENVELOPE_RESOURCES = [...LIVE_RESOURCES, 'notifications', 'brands', 'audit'] as const;
export type TEnvelopeResource = (typeof ENVELOPE_RESOURCES)[number];

/**
 * `refetch`: a bulk change below an account made this viewer's list stale (a reseller's
 * suspension changes the effective status of every customer under it); it names the
 * account (`id`) and carries no entity. Cards have two named kinds (DESIGN §3):
 * `rates_changed` (the card with its new counts, and a summary — never one event per
 * rate) and `margin_alert` (rows of a derived card started losing money; owner's side);
 * `revision_scheduled` / `revision_cancelled` (a rate set dated later, with its diff counts
 * and date, or withdrawn).
 */
export const CHANGE_KINDS = [
  'created',
  'updated',
  'deleted',
  'added',
  'removed',
  'refetch',
  'rates_changed',
  'margin_alert',
  'revision_scheduled',
  'revision_cancelled',
] as const;

const ZNamedActor = z.union([
  z.object({ kind: z.literal('user'), id: z.string(), name: z.string(), email: z.string() }),
  z.object({ kind: z.literal('account'), name: z.string() }),
]);

/**
 * One change as a viewer receives it, live (`change`) or in catch-up (`GET /events`):
 * `<resource>.created|updated|deleted` while the entity stays in view, `.added` when it
 * enters it (full data), `.removed` when it leaves it (only `{ id }`).
 */
export const ZChangeEnvelope = z.object({
  seq: z.number().int().positive(),
  type: z.templateLiteral([z.enum(ENVELOPE_RESOURCES), '.', z.enum(CHANGE_KINDS)]),
  id: z.string(),
  data: z.record(z.string(), z.unknown()),
  at: z.string(),
  actor: ZNamedActor,
  /**
   * A bulk change's summary. `refetch` names lists whose other entries changed with it
   * (a reseller's suspension changes the effective status of everything below it).
   */
  summary: z
    .object({ refetch: z.array(z.enum(LIVE_RESOURCES)).optional() })
    .catchall(z.unknown())
    .optional(),
  /**
   * Calls stored for a customer that moved no balance (`summary.reason: 'calls'`): the
   * accounts from the viewer's own down to the customer's parent, top down, each as its
   * digest (`withinKey`, ./within.ts: not the id, which a reader of customers may not be
   * allowed to know). No balance above the customer moved, so this is how the traffic
   * views over any of them (a reseller's Calls tab, its dashboard rows) know the calls are
   * theirs. Never an account above the viewer's. Live only, also on a later change of the
   * account that stands for calls it replaced (one balance event per account a second):
   * there, calls moved it, and `[]` when they moved its balance (no account between).
   */
  within: z.array(z.string()).optional(),
  /**
   * Live only: an account's balance moves, coalesced (at most one such event per account
   * a second, the latest): it may arrive after envelopes of later positions; apply it by
   * version. Catch-up never coalesces.
   */
  coalesced: z.literal(true).optional(),
  /**
   * Live only: the server holds coalesced changes after this position; a client that
   * loses its connection catches up from here rather than from its last seq.
   */
  resumeAfter: z.number().int().nonnegative().optional(),
});
export type TChangeEnvelope = z.infer<typeof ZChangeEnvelope>;

/**
 * DESIGN §3's two named session types, sent as `change` envelopes as well as their own
 * Socket.IO events (`session.rescoped`, `session.revoked`, which the panel's client
 * listens to): the socket's access changed (`data`: the `GET /me` of its new access) or
 * ended (`data`: `{ reason, code }`; the socket closes right after). `id` is the signed-in
 * user. No log entry of their own: `seq` is the position the socket had been given
 * everything up to when it happened — a resume point, never an entry to skip — and they
 * are live only (catch-up answers 410 `resync_required` after an access change instead).
 */
export const SESSION_ENVELOPE_TYPES = ['session.rescoped', 'session.revoked'] as const;
export const ZSessionEnvelope = z.object({
  seq: z.number().int().nonnegative(),
  type: z.enum(SESSION_ENVELOPE_TYPES),
  id: z.string(),
  data: z.record(z.string(), z.unknown()),
  at: z.string(),
});
export type TSessionEnvelope = z.infer<typeof ZSessionEnvelope>;

/** What a socket's `change` event carries: a change, or a session's. */
export type TLiveEnvelope = TChangeEnvelope | TSessionEnvelope;

export function isSessionEnvelope(envelope: TLiveEnvelope): envelope is TSessionEnvelope {
  return (SESSION_ENVELOPE_TYPES as readonly string[]).includes(envelope.type);
}
