import { noteServerDate } from './server-clock';

/**
 * The browser's client for /api/v1: same-origin fetch with the session cookie, JSON in
 * and out, and the API's error body turned into an `ApiClientError` that forms read
 * field by field.
 */
export class ApiClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: Record<string, string> = {},
    /** On a 409 conflict: the entity as it is now on the server. */
    readonly current?: unknown,
    /** On another 409: what blocks it (DESIGN §3 `dependants`), as the server names it. */
    readonly dependants: { resource?: string; name?: string }[] = [],
  ) {
    super(message);
  }
}

/** A read's `signal`: TanStack's, aborted when the query is cancelled (it then never goes). */
export type TApiInit = { method?: string; body?: unknown; signal?: AbortSignal };
export type TApiFetch = <T>(path: string, init?: TApiInit) => Promise<T>;

/**
 * A fetcher for /api/v1 at `baseUrl` with extra headers: the browser uses the page's
 * origin and its cookie (`apiFetch`); a script or a test passes a URL and a bearer token.
 */
export function createApiFetch(baseUrl = '', headers: Record<string, string> = {}): TApiFetch {
  return async function fetchApi<T>(path: string, init: TApiInit = {}): Promise<T> {
    // A file (a logo) goes as its own bytes and type; anything else as JSON.
    const file = typeof Blob !== 'undefined' && init.body instanceof Blob ? init.body : null;
    const sentAt = Date.now();
    const response = await fetch(`${baseUrl}/api/v1${path}`, {
      method: init.method ?? 'GET',
      signal: init.signal,
      credentials: 'same-origin',
      headers: {
        ...headers,
        ...(init.body === undefined
          ? {}
          : {
              'content-type': file ? file.type || 'application/octet-stream' : 'application/json',
            }),
      },
      body: init.body === undefined ? undefined : file ? file : JSON.stringify(init.body),
    });
    noteServerDate(response.headers.get('date'), sentAt, Date.now());
    if (response.status === 204) return undefined as T;
    const body = await response.json().catch(() => undefined);
    // A success whose body does not parse was cut off (the server died mid-answer): a
    // failed request to try again, never an empty result.
    if (response.ok && body === undefined) throw new Error(`incomplete answer from ${path}`);
    if (!response.ok) {
      const error = body?.error ?? {};
      throw new ApiClientError(
        response.status,
        error.code ?? 'unknown',
        error.message ?? `Request failed (${response.status})`,
        error.fields ?? {},
        error.current,
        Array.isArray(error.dependants) ? error.dependants : [],
      );
    }
    return body as T;
  };
}

export const apiFetch: TApiFetch = createApiFetch();

export interface TPageOf<T> {
  items: T[];
  nextCursor: string | null;
  /** Rows in scope matching the filters, over every page (lists that count). */
  total?: number;
}
