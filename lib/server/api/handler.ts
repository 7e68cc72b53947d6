import type { EntityManager } from '@mikro-orm/postgresql';
import {
  CheckConstraintViolationException,
  ConnectionException,
  DeadlockException,
  DriverException,
  ForeignKeyConstraintViolationException,
  NotNullConstraintViolationException,
  OptimisticLockError,
  UniqueConstraintViolationException,
} from '@mikro-orm/core';
import { z } from 'zod';
import type { TActor } from '@/lib/server/authz/actor';
import { parseCookieHeader, sessionTokenFrom } from '@/lib/server/auth/session';
import { findRuntime } from '@/lib/server/runtime';
import { bearerFrom } from '@/lib/server/auth/api-token';
import {
  enter,
  enterRiding,
  type TCredential,
  type TCredentialRef,
  type TDoorResult,
  type TPassableGate,
  type TRefusal,
} from '@/lib/server/auth/door';
import type { TSqlFragment } from '@/lib/server/authz/scope';
import { ApiError, httpStatusOf } from './errors';
import { DomainError, invalidInput, unauthenticated } from '@/lib/server/errors/domain-error';
import { zodFields } from '@/lib/server/errors/zod-fields';
import { getLogger, REQUEST_ID_HEADER } from '@/lib/server/observability/logger';
import { bodyLimitFor, JSON_BODY_LIMIT, readTextLimited } from './body-limit';
import { EMAIL_TAKEN } from '@/lib/shared/schemas/users';
import { API_REGISTRY, matchRoute, type TOperation } from './registry';
import { apiSegments } from './routes';
import { assertSameOriginWrite } from './same-origin';
import { requestHostname } from '@/lib/server/http/request-host';
import {
  CONTROL_CHARACTER_MESSAGE,
  hasLoneSurrogate,
  LONE_SURROGATE_MESSAGE,
} from '@/lib/shared/schemas/common';

export interface TApiContext<P> {
  req: Request;
  params: P;
  actor: TActor;
  em: EntityManager;
  /** The credential this request came with (the password change keeps it alive). */
  credential: TCredentialRef;
}

type TRouteContext<P> = { params: Promise<P> };

/**
 * Wraps an /api/v1 route handler: the request's credential (bearer token, else session
 * cookie) goes through the door (lib/server/auth/door.ts), the actor gets a fresh
 * EntityManager, and every failure becomes the API's error body — 4xx for what the
 * caller can fix, a bare 500 (logged here, never sent) for the rest.
 */
export function apiRoute<P = Record<string, never>>(
  handle: (ctx: TApiContext<P>) => Promise<Response>,
  options: {
    /** Gates this route is the way out of (`/me`, the password change, MFA enrolment). */
    pass?: readonly TPassableGate[];
    /** Act as the signed-in person even while impersonating (stopping the view). */
    realActor?: boolean;
  } = {},
) {
  return async (req: Request, context: TRouteContext<P>): Promise<Response> => {
    try {
      const runtime = runtimeOrUnavailable();
      const em = runtime.orm.em.fork();
      const result = await enter(em, credentialOf(req, runtime.config.publicUrl), {
        authSecret: runtime.config.authSecret,
        pass: options.pass,
        realActor: options.realActor,
      });
      const { actor, ref } = admitted(result, req, runtime.config.publicUrl);
      const params = context?.params ? await context.params : ({} as P);
      // An operation that takes no body is sent none (or `{}`): a body it would ignore —
      // `DELETE /cards/{id}` with `{"force":true}` — is a request misread in silence.
      if (takesNoBody(req)) await readNoBody(req);
      return await handle({ req, params, actor, em, credential: ref });
    } catch (error) {
      return errorResponse(error, req);
    }
  };
}

/**
 * `apiRoute` for a route whose work is one statement built from its input — the JSON
 * body (`body`; issue 18: `POST /authorize`, in a switch's call path) or the query string
 * (`query`; issue 14: `GET /rates/lookup`): the input is read and validated first, so
 * the statement can ride in the round trip of the credential's check (`enterRiding`) —
 * one round trip per request with a bearer token. The door's gates and every answer are
 * `apiRoute`'s: a refused credential is still 401 before bad input is 400, the same-origin
 * and read-only rules apply, and the handler gets the actor, the input (as `body`) and
 * what the statement gave (`ridden`; for the actor admitted, never for anyone else).
 */
export function apiRidingRoute<B extends z.ZodType, T>(
  spec: ({ body: B } | { query: B }) & {
    statement: (body: z.infer<B>, callerPath: TSqlFragment) => TRiding;
  },
  handle: (
    ctx: TApiContext<Record<string, never>> & { body: z.infer<B>; ridden: T },
  ) => Promise<Response>,
) {
  return async (req: Request): Promise<Response> => {
    try {
      const runtime = runtimeOrUnavailable();
      const em = runtime.orm.em.fork();
      let body: z.infer<B> | undefined;
      let badInput: unknown;
      try {
        body = 'query' in spec ? readQuery(req, spec.query) : await readBody(req, spec.body);
      } catch (error) {
        badInput = error;
      }
      const credential = credentialOf(req, runtime.config.publicUrl);
      const options = { authSecret: runtime.config.authSecret };
      const { result, ridden } =
        badInput === undefined
          ? await enterRiding<T>(em, credential, options, (path) => spec.statement(body!, path))
          : { result: await enter(em, credential, options), ridden: undefined };
      const { actor, ref } = admitted(result, req, runtime.config.publicUrl);
      if (badInput !== undefined) throw badInput;
      return await handle({
        req,
        params: {},
        actor,
        em,
        credential: ref,
        body: body!,
        ridden: ridden as T,
      });
    } catch (error) {
      return errorResponse(error, req);
    }
  };
}

type TRiding = { sql: string; params: unknown[] };

function runtimeOrUnavailable() {
  const runtime = findRuntime();
  if (!runtime) throw new ApiError(503, 'unavailable', 'The panel is starting; try again.');
  return runtime;
}

/** A request with an Authorization header is judged by it alone. */
function credentialOf(req: Request, publicUrl: string): TCredential {
  const authorization = req.headers.get('authorization');
  if (authorization) return { kind: 'api-token', token: bearerFrom(authorization) };
  const cookies = parseCookieHeader(req.headers.get('cookie') ?? undefined);
  return {
    kind: 'session-cookie',
    token: sessionTokenFrom((name) => cookies.get(name), publicUrl),
    hostname: requestHostname(req.headers.get('host')),
  };
}

/** The door's answer, and the rules after it for every route: the actor, or the refusal. */
function admitted(
  result: TDoorResult,
  req: Request,
  publicUrl: string,
): { actor: TActor; ref: TCredentialRef } {
  if (!result.ok) throw refusalError(result.refusal);
  // A write carried by the cookie must come from the panel's own pages (CSRF).
  if (!req.headers.get('authorization')) assertSameOriginWrite(req, publicUrl);
  const { actor, ref } = result.entry;
  // Impersonation is read-only, always (DESIGN §1).
  if (actor.impersonatorUserId && req.method !== 'GET' && req.method !== 'HEAD') {
    throw new ApiError(403, 'impersonation_read_only', 'Viewing as another user is read-only.');
  }
  return { actor, ref };
}

/** The door's refusal as the API says it. */
function refusalError(refusal: TRefusal): DomainError {
  switch (refusal.code) {
    case 'unauthenticated':
      return unauthenticated();
    case 'password_change_required':
      return new ApiError(403, 'password_change_required', 'Change your password first.');
    case 'mfa_enrolment_required':
      return new ApiError(
        403,
        'mfa_enrolment_required',
        'Your group requires two-factor authentication: enrol first.',
      );
  }
}

/**
 * Below this a JSON answer goes uncompressed. An answer that small reaches the client in
 * TCP's first flight (an initial window of 10 segments, about 14 KB) compressed or not,
 * so gzip would save no round trip, only bytes, and costs CPU at both ends and a hop
 * through the thread pool: a rate lookup's 2–3 KB answer was 1.3–1.9 ms of its p50
 * (docs/bench.md, issue 14).
 */
export const COMPRESS_MIN_BYTES = 8192;

/**
 * A JSON answer. Never stored by a cache on the way (it is one person's view). Next
 * compresses every streamed answer whatever its size; gzip on a small one costs more than
 * it saves, so one under `COMPRESS_MIN_BYTES` is marked `no-transform`, which the
 * compressor honours; large lists and exports are still compressed.
 */
export function json(body: unknown, status = 200): Response {
  const text = JSON.stringify(body);
  const small = Buffer.byteLength(text) < COMPRESS_MIN_BYTES;
  const response = new Response(text, {
    status,
    headers: {
      'content-type': 'application/json',
      'cache-control': small ? 'no-store, no-transform' : 'no-store',
    },
  });
  JSON_TEXT.set(response, text);
  return response;
}

/** Each `json()` answer's text, kept beside its (unread) body stream. */
const JSON_TEXT = new WeakMap<Response, string>();

/**
 * The text a `json()` answer was made from, for the API router (server/api-router.ts) to
 * write as it is: reading it back through the body's web stream cost a GET about as
 * much CPU as its own statement (issue 14). Undefined for any other answer.
 */
export function jsonTextOf(response: Response): string | undefined {
  return JSON_TEXT.get(response);
}

export function noContent(): Response {
  return new Response(null, { status: 204 });
}

/**
 * The answer for anything thrown: domain errors with their kind's status, bad input as 400,
 * races as 409; anything else is logged with its stack and the request id, and the
 * caller gets a bare 500 carrying that id (never a stack trace).
 */
/** Unique keys a request can collide with by a value it sends, and the field each names. */
/**
 * A unique constraint a write ran into, answered as the service's own check answers it
 * (the check and the insert race: two at once pass the check, one hits the constraint).
 */
const UNIQUE_ANSWERS: Record<
  string,
  { code: string; message: string; fields: Record<string, string> }
> = {
  user_group_account_id_name_unique: {
    code: 'duplicate',
    message: 'Something with the same unique value exists already.',
    fields: { name: 'is taken by another group of this account' },
  },
  app_user_email_unique: {
    code: 'email_taken',
    message: 'A user with this email exists already.',
    fields: { email: EMAIL_TAKEN },
  },
  // Two cards given at once to a customer that held none: neither saw the other's to
  // replace it. The later one is told to try again, and then replaces the first.
  card_assignment_one_per_customer: {
    code: 'busy',
    message: 'Another card was given to this customer at the same moment; try again.',
    fields: { accountId: 'was given another card at the same moment' },
  },
};

export function errorResponse(error: unknown, req?: Request): Response {
  if (error instanceof DomainError) {
    const retryAfter = error.extra.retryAfterSeconds;
    const headers: Record<string, string> =
      typeof retryAfter === 'number' ? { 'Retry-After': String(retryAfter) } : {};
    return Response.json(error.toBody(), { status: httpStatusOf(error), headers });
  }
  if (error instanceof z.ZodError)
    return Response.json(invalidInput(zodFields(error)).toBody(), { status: 400 });
  // The client hung up while its body streamed in (Node's `aborted`, ECONNRESET): not the
  // database's ECONNRESET, and no error of the server's — anyone could write a warning
  // that the database is down, one per connection. Nobody reads the answer.
  if (clientWentAway(error)) {
    getLogger().debug({ path: req && new URL(req.url).pathname }, 'api: client went away mid-body');
    return Response.json(invalidInput({ body: 'did not arrive whole' }).toBody(), { status: 400 });
  }
  if (error instanceof OptimisticLockError) {
    return Response.json(
      new ApiError(409, 'conflict', 'Someone else changed this first.').toBody(),
      {
        status: 409,
      },
    );
  }
  if (error instanceof UniqueConstraintViolationException) {
    const known = UNIQUE_ANSWERS[(error as { constraint?: string }).constraint ?? ''];
    return Response.json(
      new ApiError(
        409,
        known?.code ?? 'duplicate',
        known?.message ?? 'Something with the same unique value exists already.',
        known ? { fields: known.fields } : {},
      ).toBody(),
      { status: 409 },
    );
  }
  // What the schema let through and the database's own rules refused: the request's fault
  // (a check) or a race (what it names was removed meanwhile), never a 500. Logged: each
  // one is a rule the schema should have named the field for.
  if (
    error instanceof CheckConstraintViolationException ||
    error instanceof NotNullConstraintViolationException
  ) {
    // The rule's name, never the error itself: its text quotes the statement and the row
    // refused ("Failing row contains (…)"), which on `app_user` is a password hash and
    // an MFA secret's ciphertext.
    const { code, constraint, table, column } = error as {
      code?: string;
      constraint?: string;
      table?: string;
      column?: string;
    };
    getLogger().warn(
      { db: { code, constraint, table, column } },
      'api: a database check refused what the schema took',
    );
    return Response.json(
      new ApiError(400, 'invalid_input', 'A value breaks a rule the panel keeps.').toBody(),
      { status: 400 },
    );
  }
  if (error instanceof ForeignKeyConstraintViolationException) {
    return Response.json(
      new ApiError(
        409,
        'conflict',
        'Something it names was removed meanwhile; try again.',
      ).toBody(),
      { status: 409 },
    );
  }
  if (error instanceof DeadlockException) {
    return Response.json(
      new ApiError(409, 'busy', 'Someone else was changing the same data; try again.').toBody(),
      { status: 409 },
    );
  }
  // A value the schema let through but the database cannot hold (SQLSTATE class 22: a
  // number out of range, a date before year 1): still the caller's input, never a 500.
  // Logged: each one is a limit the schema (or a value the server made from it) missed.
  if (error instanceof DriverException && /^22/.test(error.code ?? '')) {
    getLogger().warn({ err: error }, 'api: a value the database cannot hold');
    return Response.json(
      new ApiError(400, 'invalid_input', 'A value is out of the range the panel stores.').toBody(),
      { status: 400 },
    );
  }
  const requestId = req?.headers.get(REQUEST_ID_HEADER) ?? undefined;
  // The database is away (restarting, unreachable): nothing was written; try again.
  if (databaseUnavailable(error)) {
    getLogger().warn({ err: error, reqId: requestId }, 'api: database unavailable');
    return Response.json(
      new ApiError(503, 'unavailable', 'The database is unavailable; try again shortly.', {
        requestId,
      }).toBody(),
      { status: 503, headers: { 'Retry-After': '2' } },
    );
  }
  getLogger().error(
    { err: error, reqId: requestId, method: req?.method, path: req && new URL(req.url).pathname },
    'api: unexpected error',
  );
  return Response.json(
    { error: { code: 'internal', message: 'Internal error.', requestId } },
    { status: 500 },
  );
}

/** The JSON body, validated; a body that is not JSON is a 400 naming `body`. */
export async function readBody<T extends z.ZodType>(req: Request, schema: T): Promise<z.infer<T>> {
  return parseBody(await readJson(req), schema);
}

/**
 * For an action that takes no input (`POST /me/mfa`): no body, or `{}`. Anything else
 * is a 400 naming `body` — an endpoint never ignores what it was sent.
 */
export async function readNoBody(req: Request): Promise<void> {
  const text = await readTextLimited(req, JSON_BODY_LIMIT);
  if (text.trim() === '') return;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidInput({ body: 'must be empty or {}' });
  }
  parseBody(value, ZNoInput);
}

/** Whether the registry's operation for `req` is a write that declares no body of any kind. */
function takesNoBody(req: Request): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return false;
  // Matched as the router matches (decoded segments): `/tok%65ns/…` is `/tokens/…`.
  const segments = apiSegments(new URL(req.url).pathname);
  const path = segments ? matchRoute(segments) : null;
  const operation = path
    ? (API_REGISTRY[path] as Partial<Record<string, TOperation>>)[req.method]
    : undefined;
  return operation !== undefined && !operation.body && !operation.csvBody && !operation.imageBody;
}

/** What an action without input accepts as a body. */
const ZNoInput = z.strictObject({}, 'must be empty or {}');

/** The body as parsed JSON, within the size limit; 400 when it is not JSON. */
export async function readJson(req: Request): Promise<unknown> {
  const text = await readTextLimited(req, bodyLimitFor(new URL(req.url).pathname));
  try {
    return JSON.parse(text);
  } catch {
    throw invalidInput({ body: 'must be a JSON object' });
  }
}

/** A parsed body validated by `schema`; 400 naming each bad field. */
export function parseBody<T extends z.ZodType>(raw: unknown, schema: T): z.infer<T> {
  const result = schema.safeParse(raw);
  if (!result.success) throw invalidInput(zodFields(result.error));
  refuseNul(result.data);
  return result.data;
}

/** Query parameters, validated the same way. */
export function readQuery<T extends z.ZodType>(req: Request, schema: T): z.infer<T> {
  const params = Object.fromEntries(new URL(req.url).searchParams);
  const result = schema.safeParse(params);
  if (!result.success) throw invalidInput(zodFields(result.error));
  refuseNul(result.data);
  refuseReversedRange(result.data);
  return result.data;
}

/**
 * A time range (`from`, `to`: the calls, ledger and audit lists, their exports and
 * summaries) whose end is before its start is a mistake, not an empty answer: 400 naming
 * `to`, for every list that takes one, whatever its schema says of each end alone.
 */
function refuseReversedRange(query: unknown): void {
  if (typeof query !== 'object' || query === null) return;
  const { from, to } = query as { from?: unknown; to?: unknown };
  if (typeof from !== 'string' || typeof to !== 'string') return;
  if (Date.parse(to) < Date.parse(from)) throw invalidInput({ to: 'must not be before from' });
}

/**
 * The net under every schema's own text rule (`ZText`): PostgreSQL cannot store a NUL in
 * text, and the driver's refusal is a 500; half of a UTF-16 pair is stored as U+FFFD (or
 * refused by jsonb, naming nothing). So either, anywhere in what validation let through, is
 * a 400 naming the field, whatever schema forgot it.
 */
function refuseNul(value: unknown): void {
  const found = findUnstorable(value, '');
  if (found !== null) throw invalidInput({ [found.path || 'body']: found.reason });
}

/** Why a string cannot be stored as sent, or null. */
function unstorable(text: string): string | null {
  if (text.includes('\u0000')) return CONTROL_CHARACTER_MESSAGE;
  if (hasLoneSurrogate(text)) return LONE_SURROGATE_MESSAGE;
  return null;
}

/**
 * The dotted path (as `zodFields` names fields) of the first string or key holding a NUL
 * or a lone surrogate, with the reason; or null.
 */
function findUnstorable(value: unknown, path: string): { path: string; reason: string } | null {
  if (typeof value === 'string') {
    const reason = unstorable(value);
    return reason === null ? null : { path, reason };
  }
  if (typeof value !== 'object' || value === null) return null;
  const prefix = path ? `${path}.` : '';
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = findUnstorable(value[index], prefix + index);
      if (found !== null) return found;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    const reason = unstorable(key);
    if (reason !== null) return { path: prefix + key, reason };
    const found = findUnstorable(item, prefix + key);
    if (found !== null) return found;
  }
  return null;
}

/**
 * A lost or refused database connection: the driver's connection errors and the server's
 * own shutdown codes (SQLSTATE 57P01–57P03, 08xxx).
 */
/**
 * Node's error for a request whose connection closed before its body ended (a streamed
 * body's; server/api-router.ts gives a declared-length one the same shape).
 */
function clientWentAway(error: unknown): boolean {
  return (
    error instanceof Error &&
    !(error instanceof DriverException) &&
    error.message === 'aborted' &&
    (error as { code?: unknown }).code === 'ECONNRESET'
  );
}

function databaseUnavailable(error: unknown): boolean {
  if (error instanceof ConnectionException) return true;
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && /^(57P0[123]|08\d{3}|ECONNREFUSED|ECONNRESET)$/.test(code)) {
    return true;
  }
  // node-postgres reports a dropped connection by message only (no SQLSTATE).
  const message = error instanceof Error ? error.message : '';
  return LOST_CONNECTION.test(message);
}

const LOST_CONNECTION = new RegExp(
  [
    'Connection terminated',
    'connect ECONNREFUSED',
    'terminating connection due to administrator command',
    'connection error and is not queryable',
    // knex, when the connection under an open transaction died and the next statement of
    // that transaction is tried (seen once in four PostgreSQL restarts under writes).
    'Transaction query already complete',
  ].join('|'),
);
