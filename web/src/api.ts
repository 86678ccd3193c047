// A small JSON client for the relais API (/api/v1/...). Errors come back as
// {"error": {"code": "snake_case", "message": "...", "field": "optional"}} and are
// thrown as ApiError, so pages can show `message` or mark the input named `field`.

export const API_BASE = '/api/v1';

// The session's CSRF token lives in memory only (never in storage): it comes from
// POST /session, POST /me/password or GET /me, and goes with every state-changing call.
let csrfToken: string | null = null;
let onUnauthenticated: (() => void) | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when the server answers 401 `unauthenticated` (the session ended): the app signs out. */
export function setUnauthenticatedHandler(handler: (() => void) | null): void {
  onUnauthenticated = handler;
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export class ApiError extends Error {
  /** HTTP status, or 0 when the server could not be reached. */
  readonly status: number;
  /** The server's snake_case code, or `network_error` / `http_<status>` when it sent none. */
  readonly code: string;
  /** The request field the error is about, if the server named one. */
  readonly field: string | undefined;
  /** Seconds from a Retry-After header (429, 503), if any. */
  readonly retryAfter: number | undefined;

  constructor(status: number, code: string, message: string, field?: string, retryAfter?: number) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
    this.retryAfter = retryAfter;
  }
}

export interface ApiOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * Calls `path` under /api/v1 (e.g. apiFetch('/session', { method: 'POST', body })) and
 * resolves with the parsed JSON body, or `undefined` for an empty one (204).
 * Rejects with ApiError for any non-2xx answer or a network failure; an AbortError
 * from `signal` is passed through unchanged.
 */
export async function apiFetch<T = unknown>(path: string, options: ApiOptions = {}): Promise<T> {
  try {
    return await rawFetch<T>(path, options);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    // Another tab signed in again (new session cookie, new token): fetch the current token
    // once and retry.
    if (err.code === 'csrf_failed' && csrfToken !== null) {
      const me = await rawFetch<{ csrf_token?: string }>('/me', { signal: options.signal }).catch(() => null);
      if (me?.csrf_token) {
        csrfToken = me.csrf_token;
        return rawFetch<T>(path, options);
      }
    }
    if (err.status === 401 && err.code === 'unauthenticated') onUnauthenticated?.();
    throw err;
  }
}

async function rawFetch<T>(path: string, options: ApiOptions): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  const method = options.method ?? (options.body === undefined ? 'GET' : 'POST');
  if (UNSAFE_METHODS.has(method) && csrfToken !== null) headers['X-CSRF-Token'] = csrfToken;
  const init: RequestInit = {
    method,
    headers,
    credentials: 'same-origin',
    signal: options.signal ?? null,
  };
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json; charset=utf-8';
    init.body = JSON.stringify(options.body);
  }

  let response: Response;
  try {
    response = await fetch(API_BASE + path, init);
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network_error', err instanceof Error ? err.message : String(err));
  }

  const data = await readJson(response);
  if (response.ok) return data as T;

  const error = isErrorBody(data) ? data.error : undefined;
  throw new ApiError(
    response.status,
    error?.code ?? `http_${response.status}`,
    error?.message ?? (response.statusText || `HTTP ${response.status}`),
    error?.field ?? undefined,
    parseRetryAfter(response.headers.get('Retry-After')),
  );
}

async function readJson(response: Response): Promise<unknown> {
  const type = response.headers.get('Content-Type') ?? '';
  if (response.status === 204 || !/^application\/(.+\+)?json\b/i.test(type)) {
    if (response.ok && response.status !== 204) {
      throw new ApiError(response.status, 'bad_response', `Expected JSON, got ${type || 'no content type'}`);
    }
    return undefined;
  }
  try {
    return await response.json();
  } catch {
    throw new ApiError(response.status, 'bad_response', 'The server sent malformed JSON');
  }
}

interface ErrorBody {
  error: { code: string; message: string; field?: string | null };
}

function isErrorBody(data: unknown): data is ErrorBody {
  if (typeof data !== 'object' || data === null) return false;
  const error = (data as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return false;
  const e = error as Record<string, unknown>;
  return (
    typeof e.code === 'string' &&
    typeof e.message === 'string' &&
    (e.field === undefined || e.field === null || typeof e.field === 'string')
  );
}

/** A query string ("?a=1&b=x") from the given values, leaving out empty ones; "" when none. */
export function query(params: Readonly<Record<string, string | number | null | undefined>>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}
