// Uncaught errors and unhandled promise rejections go to POST /api/v1/client-errors, so
// that they show in the server log. At most MAX_REPORTS per page load, never a secret: the
// `token` of a reset link and a customer's follow link are cut from the reported address.
const MAX_REPORTS = 5;
let sent = 0;

function pageUrl(): string {
  const url = new URL(window.location.href);
  if (url.searchParams.has('token')) url.searchParams.set('token', '[redacted]');
  const path = url.pathname.replace(/^\/follow\/[^/]+/, '/follow/[redacted]');
  return path + url.search;
}

function describe(value: unknown): { message: string; stack: string } {
  if (value instanceof Error) return { message: `${value.name}: ${value.message}`, stack: value.stack ?? '' };
  try {
    return { message: typeof value === 'string' ? value : JSON.stringify(value) ?? String(value), stack: '' };
  } catch {
    return { message: String(value), stack: '' };
  }
}

export function reportError(value: unknown, context?: string): void {
  if (sent >= MAX_REPORTS) return;
  sent += 1;
  const { message, stack } = describe(value);
  const body = {
    message: ((context ? `${context}: ` : '') + message).slice(0, 2000) || 'unknown error',
    url: pageUrl().slice(0, 2000),
    stack: stack.slice(0, 8000),
  };
  try {
    void fetch('/api/v1/client-errors', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      credentials: 'same-origin',
      keepalive: true,
    }).catch(() => {});
  } catch {
    // Reporting must never throw.
  }
}

export function installErrorReporting(): void {
  window.addEventListener('error', (event: ErrorEvent) => {
    reportError(event.error ?? event.message ?? 'error', 'uncaught');
  });
  window.addEventListener('unhandledrejection', (event: PromiseRejectionEvent) => {
    reportError(event.reason, 'unhandled rejection');
  });
}
