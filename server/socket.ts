import type { Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import type { MikroORM } from '@mikro-orm/postgresql';
import {
  PROTOCOL_VERSION,
  type TClientToServerEvents,
  type THandshakeRefusal,
  type TServerToClientEvents,
} from '@/lib/shared/live/events';
import type { TActor } from '@/lib/server/authz/actor';
import { parseCookieHeader, sessionTokenFrom } from '@/lib/server/auth/session';
import { enter, type TCredentialRef, type TRefusal } from '@/lib/server/auth/door';
import { requestHostname } from '@/lib/server/http/request-host';
import {
  isAllowedOrigin,
  isAllowedSessionOrigin,
  type PortalHostnames,
} from '@/lib/server/services/brands/portal-hostnames';
import { toMeDto } from '@/lib/server/services/me/me-dto';
import { roomsOf } from '@/lib/server/authz/audience';
import { carrierIdOf } from '@/lib/server/authz/scope';
import { controlRoomsOf, readHeadsWith, recheck, scheduleExpiry } from './revocation';
import { attachPresence } from './presence';
import { attachCatchUp } from './catch-up';
import type { RecentLog } from '@/lib/server/live/recent-log';
import type { TActorRecord } from '@/lib/server/authz/actor-name';
import { getLogger } from '@/lib/server/observability/logger';
import { createHandshakeGate, HANDSHAKE_RETRY_AFTER_MS } from './handshake-gate';
import { writeFlushesWhole } from './ws-flush';

export interface TSocketData {
  actor: TActor;
  /**
   * The signed-in person: the credential it connected with (the door checks it again on
   * every re-check and catch-up), and its own group as last checked (while viewing as
   * someone, the socket's actor is another's).
   */
  real: { userId: string; groupId: string; ref: TCredentialRef; expiresAt: Date };
  /** The person at the keyboard, as presence names them (the support agent, not the view). */
  person: TActorRecord;
  /** The fan-out's count of entries passed when the handshake went through the door. */
  passedAtEntry?: number;
  /** Presence room → when this socket joined it. */
  presenceSince?: Record<string, string>;
}

/** A person at the limit of live sockets retries after this (they close a tab meanwhile). */
const PERSON_FULL_RETRY_AFTER_MS = 30_000;
export type TPanelServer = Server<
  TClientToServerEvents,
  TServerToClientEvents,
  Record<string, never>,
  TSocketData
>;
export type TPanelSocket = Socket<
  TClientToServerEvents,
  TServerToClientEvents,
  Record<string, never>,
  TSocketData
>;

interface TSocketDeps {
  orm: MikroORM;
  authSecret: string;
  publicUrl: string;
  /** The panel's own other names (`PANEL_HOSTNAMES`), under the public URL's scheme and port. */
  panelHostnames?: readonly string[];
  /** The brands' hostnames: with the public URL, the origins a browser may connect from. */
  hostnames: PortalHostnames;
  /** A carrier's last position delivered by this process's fan-out: live events follow it. */
  head: (carrierId: string) => number;
  /** How many entries this process's fan-out has passed so far (grows with each). */
  passed: () => number;
  /** How far back catch-up reaches (EVENTS_RETENTION_DAYS). */
  retentionDays: number;
  /** What this process's fan-out has just passed: catch-up pages from it when it can. */
  recent?: RecentLog;
  /** Handshakes checked at once (LIVE_MAX_HANDSHAKES). */
  maxHandshakes: number;
  /** Handshakes waiting beyond those before more are shed (LIVE_HANDSHAKE_QUEUE). */
  handshakeQueue: number;
  /** Live sockets one person may hold here (`LIVE_SOCKETS_PER_PERSON`). */
  socketsPerPerson: number;
}

/** The largest message a client may send (a presence join is under 200 bytes). */
export const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;

/** The door's refusal as a `connect_error`: the reason stays on the server. */
function handshakeRefusal(refused: TRefusal): Error {
  switch (refused.code) {
    case 'unauthenticated':
      return refusal(
        'unauthenticated',
        'The session is not valid: expired, signed out or revoked.',
      );
    case 'password_change_required':
      return refusal('password_change_required', 'Change your password first.');
    case 'mfa_enrolment_required':
      return refusal('mfa_enrolment_required', 'Enrol in two-factor authentication first.');
  }
}

/** The connection's engine id (the `sid` a client knows), typed private by Socket.IO. */
const engineIdOf = (socket: { conn: unknown }) => (socket.conn as { id: string }).id;

function refusal(code: THandshakeRefusal['code'], message: string, retryAfterMs?: number): Error {
  const data: THandshakeRefusal = { code, message, ...(retryAfterMs ? { retryAfterMs } : {}) };
  return Object.assign(new Error(message), { data });
}

/**
 * The Socket.IO server beside Next on the same HTTP server. Authentication happens once,
 * on the handshake, with the same session cookie as the pages; everyone else is refused
 * with a `connect_error` naming why. Connection state recovery stays off: it would
 * skip this middleware and restore old rooms (socket.io#5491).
 */
export function createSocketServer(httpServer: HttpServer, deps: TSocketDeps): TPanelServer {
  const io: TPanelServer = new Server(httpServer, {
    serveClient: false,
    // Clients send only small messages (presence topics): anything bigger is refused
    // and its connection closed.
    maxHttpBufferSize: MAX_CLIENT_MESSAGE_BYTES,
    // Next's dev server needs its own upgrade requests (HMR) left alone.
    destroyUpgrade: false,
    // A browser on another site must not ride the cookie over a WebSocket (CSWSH): the
    // panel's own origins and its brands' portals only (issue 19), read from the
    // database and kept until a brand changes (portal-hostnames.ts). A handshake with a
    // session cookie comes from a page of the host it was sent to, the host the session
    // is bound to, as a cookie write does: another portal (a sibling subdomain a
    // reseller registered) is refused. Without the cookie (an API token in `auth`)
    // any origin of the installation may connect; a script sends no Origin at all.
    allowRequest: (req, callback) => {
      const origin = req.headers.origin;
      if (!origin) return callback(null, true);
      const cookies = parseCookieHeader(req.headers.cookie);
      const allowed =
        sessionTokenFrom((name) => cookies.get(name), deps.publicUrl) !== undefined
          ? isAllowedSessionOrigin(
              origin,
              req.headers.host,
              deps.publicUrl,
              deps.hostnames,
              deps.panelHostnames,
            )
          : isAllowedOrigin(origin, deps.publicUrl, deps.hostnames, deps.panelHostnames);
      allowed.then(
        (yes) => callback(null, yes),
        (error: unknown) => {
          getLogger().error({ err: error }, 'socket: allowed origins unreadable');
          callback(null, false);
        },
      );
    },
  });
  writeFlushesWhole(io);

  // Too many handshakes at the door at once: the next ones wait their turn, and past the
  // queue they are refused before any database work (server/handshake-gate.ts); the
  // refused clients retry after the hint.
  const gate = createHandshakeGate({ limit: deps.maxHandshakes, queue: deps.handshakeQueue });
  // One live socket per connection, and one handshake at a time on it: Socket.IO starts a
  // handshake for every CONNECT packet a connection sends until one succeeds, so one
  // connection could fill the gate's places and queue by itself (everyone else refused
  // `unavailable`), or — signed in — open many sockets, each sent every event. A refusal
  // frees the connection for the next attempt; a socket, when it disconnects.
  const claimed = new WeakSet<object>();
  // Each person's live sockets here, counted from admission to disconnect.
  const held = new Map<string, number>();
  const release = (userId: string) => {
    const left = (held.get(userId) ?? 1) - 1;
    if (left > 0) held.set(userId, left);
    else held.delete(userId);
  };
  io.use(async (socket, givenDone) => {
    const conn = socket.conn;
    if (claimed.has(conn)) {
      return givenDone(refusal('unavailable', 'One connection, one live socket at a time.'));
    }
    claimed.add(conn);
    const done = (error?: Error) => {
      if (error) claimed.delete(conn);
      givenDone(error);
    };
    // Gone already (the client gave up, or its network dropped): nothing to check.
    if (socket.conn.readyState !== 'open') {
      return done(refusal('unavailable', 'The connection closed before its check.'));
    }
    // A connection that closes while it waits gives its place in the queue up at once.
    const gone = new AbortController();
    const onClose = () => gone.abort();
    socket.conn.once('close', onClose);
    const next = await gate.enter(done, gone.signal);
    socket.conn.off('close', onClose);
    if (!next) {
      const busy = 'The server is busy checking other connections; try again shortly.';
      return done(refusal('unavailable', busy, gate.retryAfterMs()));
    }
    // Debug level: where a handshake stands, by its engine id, when one never ends.
    getLogger().debug({ sid: engineIdOf(socket) }, 'socket: handshake at the door');
    const cookies = parseCookieHeader(socket.request.headers.cookie);
    const auth: unknown = socket.handshake.auth?.token;
    try {
      // Changes committed from here on may end this credential before the socket has
      // joined the rooms that would tell it: `connection` re-checks if any came.
      socket.data.passedAtEntry = deps.passed();
      // An API token in `auth: { token }` is judged by itself, like a bearer header.
      const result = await enter(
        deps.orm.em.fork(),
        auth !== undefined
          ? { kind: 'api-token', token: typeof auth === 'string' ? auth : undefined }
          : {
              kind: 'session-cookie',
              token: sessionTokenFrom((name) => cookies.get(name), deps.publicUrl),
              hostname: requestHostname(socket.request.headers.host),
            },
        { authSecret: deps.authSecret },
      );
      if (!result.ok) {
        getLogger().debug(
          { sid: engineIdOf(socket), code: result.refusal.code },
          'socket: refused',
        );
        return next(handshakeRefusal(result.refusal));
      }
      const { actor, real, ref, expiresAt } = result.entry;
      if ((held.get(real.userId) ?? 0) >= deps.socketsPerPerson) {
        return next(
          refusal(
            'unavailable',
            `At most ${deps.socketsPerPerson} live connections per person: close a tab or a script's connection.`,
            PERSON_FULL_RETRY_AFTER_MS,
          ),
        );
      }
      getLogger().debug({ sid: engineIdOf(socket) }, 'socket: admitted');
      socket.data.actor = actor;
      socket.data.real = { userId: real.userId, groupId: real.group.id, ref, expiresAt };
      socket.data.person = {
        userId: real.userId,
        name: real.name,
        email: real.email,
        userPath: real.account.path,
        accountName: real.account.name,
        accountPath: real.account.path,
      };
      // Counted as it is let in, given back once, at its disconnect or its connection's
      // close — whichever comes: a connection that closes before Socket.IO connects the
      // socket gets no `disconnect`, and a count never given back would lock its person out.
      if (socket.conn.readyState !== 'open') {
        return next(refusal('unavailable', 'The connection closed before its check.'));
      }
      held.set(real.userId, (held.get(real.userId) ?? 0) + 1);
      let counted = true;
      const giveBack = () => {
        if (!counted) return;
        counted = false;
        release(real.userId);
      };
      socket.conn.once('close', giveBack);
      // Off the connection too: a client may connect and leave many times on one
      // connection, and each listener left on it held its socket for good.
      socket.once('disconnect', () => {
        socket.conn.off('close', giveBack);
        giveBack();
      });
      next();
    } catch (error) {
      getLogger().error({ err: error }, 'socket: handshake failed');
      next(
        refusal(
          'unavailable',
          'The server could not check the session; try again.',
          HANDSHAKE_RETRY_AFTER_MS,
        ),
      );
    }
  });

  io.on('connection', (socket) => {
    socket.once('disconnect', () => claimed.delete(socket.conn));
    void welcome(socket).catch((error: unknown) => {
      getLogger().error({ err: error }, 'socket: welcome failed');
      socket.disconnect(true);
    });
  });

  /**
   * Rooms, then `hello`. The rooms a permission change reaches it by (its user, group,
   * accounts above) first; then those of its audience (lib/server/authz/audience.ts),
   * before `hello`, so every change after `seq` reaches it live. A sign-out, revocation
   * or access change fanned out between the door and here reached no room of this
   * socket: it goes through the door again before joining its audience, so it never
   * hears, even for a round trip, what its old access let it (its `hello` is the new one).
   */
  async function welcome(socket: TPanelSocket): Promise<void> {
    const stale = deps.passed() !== socket.data.passedAtEntry;
    void socket.join(controlRoomsOf(socket.data.actor, socket.data.real));
    scheduleExpiry(deps.orm, socket);
    if (stale) {
      // Unanswered (the database away), it is not let in on its old access: `welcome`'s
      // caller closes it, and the client connects again.
      await recheck(deps.orm, socket);
      if (socket.disconnected) return;
    }
    const { actor } = socket.data;
    void socket.join(roomsOf(actor));
    // Positions are per carrier, and a socket belongs to its actor's carrier alone.
    const seq = deps.head(carrierIdOf(actor.account.path));
    socket.emit('hello', { ...toMeDto(actor), seq, protocol: PROTOCOL_VERSION });
    attachPresence(io, deps.orm, socket);
    attachCatchUp(deps.orm, socket, {
      retentionDays: deps.retentionDays,
      passed: deps.passed,
      recent: deps.recent,
    });
  }

  // A session envelope outside the fan-out (an expiry, a catch-up's re-check) resumes here.
  readHeadsWith(io, deps.head);
  return io;
}
