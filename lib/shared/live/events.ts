import { z } from 'zod';
import { ZMeDto, type TMeDto } from '@/lib/shared/schemas/me';
import { ZChangeEnvelope, type TLiveEnvelope } from './change';
import type { TAck, TPresence } from './presence';

/**
 * The Socket.IO protocol, typed for both sides (DESIGN §3). Server events are past
 * tense or nouns; every client event will be acknowledged. Bump the version on any
 * incompatible change so an old tab can tell it must reload.
 */
// 2: coalesced balance events (`coalesced`, `resumeAfter`): a tab that drops them as
// duplicates would keep stale balances.
export const PROTOCOL_VERSION = 2;

/** `hello`: who the socket is (the same shape as `GET /me`), the log head and protocol. */
export const ZHello = ZMeDto.extend({
  /** Head of the change log when the socket joined; catch-up starts after it. */
  seq: z.number().int().nonnegative(),
  /**
   * The server's protocol: a tab loaded before a deploy may meet a newer one, which it
   * cannot read safely (lib/client/live-feed.ts offers a reload instead).
   */
  protocol: z.number().int().positive(),
});
export type THello = z.infer<typeof ZHello>;

/** Why a handshake was refused: sent as `connect_error` with `err.data`. */
export const ZHandshakeRefusal = z.object({
  code: z.enum([
    'unauthenticated',
    'password_change_required',
    'mfa_enrolment_required',
    'forbidden_origin',
    'unavailable',
  ]),
  message: z.string(),
  /**
   * With `unavailable`: the server is shedding load (too many handshakes at once) and
   * asks the client to try again after about this long, with jitter of its own.
   */
  retryAfterMs: z.number().int().nonnegative().optional(),
});
export type THandshakeRefusal = z.infer<typeof ZHandshakeRefusal>;

/** The most entries one catch-up page holds (`GET /events` and `events:since` alike). */
export const EVENTS_PAGE_MAX = 1000;
export const EVENTS_PAGE_DEFAULT = 500;

/**
 * `events:since`: catch-up over the socket — the very page `GET /events?since=` answers,
 * without an HTTP request per page (a reconnecting tab, a storm of them).
 */
export const ZEventsSince = z
  .object({
    since: z.number().int().nonnegative(),
    limit: z.number().int().min(1).max(EVENTS_PAGE_MAX).default(EVENTS_PAGE_DEFAULT),
  })
  .strict();

/** `GET /events?since=`: the same page over HTTP, its numbers from the query string. */
export const ZEventsQuery = z.object({
  // Digits only: coerced, an empty `?since=` was read as 0 (the whole log).
  since: z
    .string('must be a seq number')
    .regex(/^\d+$/, 'must be a seq number, 0 or more')
    .transform(Number)
    .pipe(z.number().int().max(Number.MAX_SAFE_INTEGER, 'must be a seq number, 0 or more')),
  limit: z.coerce.number().int().min(1).max(EVENTS_PAGE_MAX).default(EVENTS_PAGE_DEFAULT),
});

/** A catch-up page: the envelopes in seq order and the position to resume from. */
export const ZEventsPage = z.object({
  items: z.array(ZChangeEnvelope),
  seq: z.number().int().nonnegative(),
});
export type TEventsPage = z.infer<typeof ZEventsPage>;

export type TEventsAck =
  { ok: true; page: TEventsPage } | { ok: false; error: { code: string; message: string } };

export interface TServerToClientEvents {
  hello: (payload: THello) => void;
  /** A change, or (`isSessionEnvelope`) the same as the two session events below. */
  change: (envelope: TLiveEnvelope) => void;
  /** Access changed but continues: the new identity and grants; drop what is no longer visible. */
  'session.rescoped': (me: TMeDto) => void;
  /**
   * Access ended: the socket is closed right after. `held`: the person is still signed
   * in but must act first (a forced password change, MFA enrolment); the page, loaded
   * again, leads there. `ended`: signed out (sign in again).
   */
  'session.revoked': (payload: { reason: string; code: 'ended' | 'held' }) => void;
  /** Who is on a presence topic now (sent on every join and leave). */
  presence: (payload: TPresence) => void;
}

/** Client events: payloads are checked with zod (presence.ts, `ZEventsSince`) and acknowledged. */
export interface TClientToServerEvents {
  'presence:join': (payload: unknown, ack?: (result: TAck) => void) => void;
  'presence:leave': (payload: unknown, ack?: (result: TAck) => void) => void;
  'events:since': (payload: unknown, ack?: (result: TEventsAck) => void) => void;
}
