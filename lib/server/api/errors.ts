/**
 * The API's error vocabulary (DESIGN §3): `{"error":{"code","message",...}}` with a
 * fitting status. Services throw these; the route wrapper turns them into responses.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody() {
    return { error: { code: this.code, message: this.message, ...this.extra } };
  }
}

export function invalidInput(fields: Record<string, string>): ApiError {
  const names = Object.keys(fields);
  return new ApiError(400, 'invalid_input', `Invalid input: ${names.join(', ')}.`, { fields });
}

export function unauthenticated(): ApiError {
  return new ApiError(401, 'unauthenticated', 'Sign in, or send a valid bearer token.');
}

/** Missing a grant of one's own: says which, and nothing about any entity. */
export function forbidden(grant: string): ApiError {
  return new ApiError(403, 'forbidden', `Your group does not grant ${grant}.`);
}

/** Outside the caller's scope and non-existent look the same. */
export function notFound(what: string): ApiError {
  return new ApiError(404, 'not_found', `No such ${what}.`);
}

export function staleVersion(current: unknown): ApiError {
  return new ApiError(
    409,
    'conflict',
    'Someone else changed this first; here is the current version.',
    {
      current,
    },
  );
}

export function conflict(
  code: string,
  message: string,
  extra: Record<string, unknown> = {},
): ApiError {
  return new ApiError(409, code, message, extra);
}
