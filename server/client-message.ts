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
    // Paced (or refused) before any work that reads the database: a well-formed message
    // costs a credential check and a page of up to a thousand entries, and a 40-byte
    // message sent in a loop must not buy that without end. A malformed one costs only
    // its parse.
    if (parsed.success) {
      const wait = reserveBudget(socket);
      if (wait === null) {
        return reply({
          ok: false,
          error: { code: 'throttled', message: 'Too many messages: slow down, then try again.' },
        });
      }
      // Over its rate but not too far: answered in turn, later, not refused (a reconnect's
      // catch-up pages one message at a time, so it is paced, never cut off).
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
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

/** A socket's messages answered at once (a reconnect's catch-up pages, a page's presence). */
export const MESSAGE_BURST = 30;
/** …and per second after that; as many again may wait their turn, the rest are refused. */
export const MESSAGES_PER_SECOND = 10;

/** Each socket's message budget: tokens left (below 0: messages waiting), and when topped up. */
const budgets = new WeakMap<TPanelSocket, { tokens: number; at: number }>();

/**
 * A token bucket per socket: how long this message waits for its turn (0: now), or null
 * when MESSAGE_BURST messages are already waiting — refused as `throttled`, which makes
 * the live feed start over on a new connection after a pause (lib/client/live-feed.ts).
 */
function reserveBudget(socket: TPanelSocket, now = Date.now()): number | null {
  const budget = budgets.get(socket) ?? { tokens: MESSAGE_BURST, at: now };
  budget.tokens = Math.min(
    MESSAGE_BURST,
    budget.tokens + ((now - budget.at) / 1000) * MESSAGES_PER_SECOND,
  );
  budget.at = now;
  budgets.set(socket, budget);
  if (budget.tokens < 1 - MESSAGE_BURST) return null;
  budget.tokens -= 1;
  return budget.tokens >= 0 ? 0 : Math.ceil((-budget.tokens / MESSAGES_PER_SECOND) * 1000);
}
