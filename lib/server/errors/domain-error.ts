/**
 * What services and authorization throw when a request cannot be done: a kind (what
 * sort of refusal), a stable `code` clients switch on, a message for people, and extra
 * facts (`fields`, `current`, `dependants`, `retryAfterSeconds`). No status here: the
 * HTTP wrapper (lib/server/api/handler.ts) and the socket wrapper
 * (server/client-message.ts) each say it their own way, so a service never knows which
 * transport called it.
 */
export const DOMAIN_ERROR_KINDS = [
  'invalid_input',
  'unauthenticated',
  'forbidden',
  'not_found',
  'conflict',
  /** The caller's position is no longer valid (catch-up after an access change). */
  'gone',
  'throttled',
  'unavailable',
] as const;
export type TDomainErrorKind = (typeof DOMAIN_ERROR_KINDS)[number];

export class DomainError extends Error {
  constructor(
    readonly kind: TDomainErrorKind,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }

  /** The error as every transport words it (DESIGN §3): `{"error":{"code","message",...}}`. */
  toBody() {
    return { error: { code: this.code, message: this.message, ...this.extra } };
  }
}

export function invalidInput(fields: Record<string, string>): DomainError {
  const names = Object.keys(fields);
  return new DomainError('invalid_input', 'invalid_input', `Invalid input: ${names.join(', ')}.`, {
    fields,
  });
}

export function unauthenticated(): DomainError {
  return new DomainError(
    'unauthenticated',
    'unauthenticated',
    'Sign in, or send a valid bearer token.',
  );
}

/** Missing a grant of one's own: says which, and nothing about any entity. */
export function forbidden(grant: string): DomainError {
  return new DomainError('forbidden', 'forbidden', `Your group does not grant ${grant}.`);
}

/** Outside the caller's scope and non-existent look the same. */
export function notFound(what: string): DomainError {
  return new DomainError('not_found', 'not_found', `No such ${what}.`);
}

export function staleVersion(current: unknown): DomainError {
  return new DomainError(
    'conflict',
    'conflict',
    'Someone else changed this first; here is the current version.',
    { current },
  );
}

export function conflict(
  code: string,
  message: string,
  extra: Record<string, unknown> = {},
): DomainError {
  return new DomainError('conflict', code, message, extra);
}
