import type { MikroORM } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import type { TActor } from '@/lib/server/authz/actor';
import { DomainError } from '@/lib/server/errors/domain-error';
import { zodFields } from '@/lib/server/errors/zod-fields';
import { getLogger } from '@/lib/server/observability/logger';
import type { TClientToServerEvents } from '@/lib/shared/live/events';
import type { TPanelSocket } from './socket';
import { recheck, socketActorNow } from './revocation';

/** Every client message's acknowledgement: the API's error shape, or ok with the answer. */
export type TMessageAck<T extends object> =
  | ({ ok: true } & T)
  | { ok: false; error: { code: string; message: string; fields?: Record<string, string> } };

/**
 * What an API route gets from `apiRoute`, for a socket's client message: the payload
 * validated with zod (400-style `invalid_input` naming each field), the actor — the
 * socket's, or (`fresh`) its credential taken through the door again, as a request's
 * would be — and every failure turned into the API's error codes, never a stack trace.
 */
export function onClientMessage<TSchema extends z.ZodType, TResult extends object>(
  orm: MikroORM,
  socket: TPanelSocket,
  event: keyof TClientToServerEvents,
  schema: TSchema,
  handle: (input: z.infer<TSchema>, actor: TActor) => Promise<TResult>,
  options: {
    /**
     * Take the credential through the door again for each message; `passed` is the
     * fan-out's count of entries gone by (see `socketActorNow`).
     */
    fresh?: { passed: () => number };
  } = {},
): void {
  const listener = async (payload: unknown, ack?: unknown) => {
    const reply = (typeof ack === 'function' ? ack : () => {}) as (
      result: TMessageAck<TResult>,
    ) => void;
    const parsed = schema.safeParse(payload);
    // Refused before any work that reads the database: a well-formed message costs a
    // credential check and a page of up to a thousand entries, and a 40-byte message
    // sent in a loop must not buy that without end. A malformed one costs only its parse.
    if (parsed.success && !withinBudget(socket)) {
      return reply({
        ok: false,
        error: { code: 'throttled', message: 'Too many messages: slow down, then try again.' },
      });
    }
    if (!parsed.success) {
      const fields = zodFields(parsed.error);
      return reply({
        ok: false,
        error: {
          code: 'invalid_input',
          message: `Invalid input: ${Object.keys(fields).join(', ')}.`,
          fields,
        },
      });
    }
    try {
      let actor = socket.data.actor;
      if (options.fresh) {
        const now = await socketActorNow(orm.em.fork(), socket, options.fresh.passed());
        if (!now.ok) {
          const code = now.refusal.code;
          // The door refuses this socket now: it closes, as a re-check would close it.
          setImmediate(() => void recheck(orm, socket).catch(() => {}));
          return reply({
            ok: false,
            error: {
              code,
              message:
                code === 'unauthenticated'
                  ? 'The session is no longer valid.'
                  : 'Your access is held: reload the page.',
            },
          });
        }
        actor = now.entry.actor;
      }
      reply({ ok: true, ...(await handle(parsed.data, actor)) });
    } catch (error) {
      // A domain error travels as its code and message; the socket has no status.
      if (error instanceof DomainError) {
        return reply({ ok: false, error: { code: error.code, message: error.message } });
      }
      getLogger().error({ err: error, event }, 'socket: message failed');
      reply({ ok: false, error: { code: 'unavailable', message: 'Try again shortly.' } });
    }
  };
  socket.on(event, listener as never);
}

/** A socket's messages at once (a reconnect's catch-up pages, the presence of a page). */
export const MESSAGE_BURST = 30;
/** …and per second after that. */
export const MESSAGES_PER_SECOND = 10;

/** Each socket's message budget: tokens left, and when it was last topped up. */
const budgets = new WeakMap<TPanelSocket, { tokens: number; at: number }>();

/**
 * Whether `socket` may send one more message now (a token bucket: MESSAGE_BURST at once,
 * MESSAGES_PER_SECOND after). A refused catch-up makes the live feed start over on a new
 * connection after a pause (lib/client/live-feed.ts), so a client over it recovers.
 */
function withinBudget(socket: TPanelSocket, now = Date.now()): boolean {
  const budget = budgets.get(socket) ?? { tokens: MESSAGE_BURST, at: now };
  budget.tokens = Math.min(
    MESSAGE_BURST,
    budget.tokens + ((now - budget.at) / 1000) * MESSAGES_PER_SECOND,
  );
  budget.at = now;
  budgets.set(socket, budget);
  if (budget.tokens < 1) return false;
  budget.tokens -= 1;
  return true;
}
