// A small JSON client for the relais API (/api/v1/...). Errors come back as
// {"error": {"code": "snake_case", "message": "...", "field": "optional"}} and are
// thrown as ApiError, so pages can show `message` or mark the input named `field`.

export const API_BASE = '/api/v1';

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
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  const init: RequestInit = {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers,
    credentials: 'same-origin',
    signal: options.signal ?? null,
  };
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
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

function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}
