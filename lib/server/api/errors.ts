import { DomainError, type TDomainErrorKind } from '@/lib/server/errors/domain-error';

/** The status each kind of domain error answers over HTTP (DESIGN §3). */
export const HTTP_STATUS: Readonly<Record<TDomainErrorKind, number>> = {
  invalid_input: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  throttled: 429,
  unavailable: 503,
};

const KIND_OF_STATUS = new Map<number, TDomainErrorKind>(
  Object.entries(HTTP_STATUS).map(([kind, status]) => [status, kind as TDomainErrorKind]),
);

/**
 * A refusal only HTTP has (an unknown path, a method a route does not serve, a body too
 * large or of the wrong type, a cross-origin cookie write): it carries its own status.
 */
export class ApiError extends DomainError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    extra: Record<string, unknown> = {},
  ) {
    super(KIND_OF_STATUS.get(status) ?? 'invalid_input', code, message, extra);
    this.name = 'ApiError';
  }
}

/** The HTTP status of any domain error: its own for HTTP's refusals, else its kind's. */
export function httpStatusOf(error: DomainError): number {
  return error instanceof ApiError ? error.status : HTTP_STATUS[error.kind];
}
