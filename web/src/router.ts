import { useEffect, useState } from 'preact/hooks';

// Client-side routing with the History API. relais answers every GET outside
// /api/ with index.html, so any of these paths can be loaded directly.

export type Route =
  | 'home'
  | 'signin'
  | 'resetPassword'
  | 'questions'
  | 'questionsTriage'
  | 'question'
  | 'me'
  | 'people'
  | 'person'
  | 'communities'
  | 'communityNew'
  | 'community'
  | 'admin'
  | 'adminUsers'
  | 'adminTokens'
  | 'adminAudit'
  | 'adminChannels'
  | 'ask'
  | 'follow'
  | 'notfound';

export interface Match {
  route: Route;
  /** Values of the pattern's `:name` segments. */
  params: Readonly<Record<string, string>>;
}

// Matched in order, so '/communities/new' comes before '/communities/:id'. An `:id` segment
// matches a positive integer only; `:slug` and `:token` a URL-safe word (letters, digits,
// dash, underscore). Anything else is the not-found view.
const ROUTES: ReadonlyArray<readonly [string, Route]> = [
  ['/', 'home'],
  ['/signin', 'signin'],
  ['/reset-password', 'resetPassword'],
  ['/questions', 'questions'],
  ['/questions/triage', 'questionsTriage'],
  ['/questions/:id', 'question'],
  ['/me', 'me'],
  ['/people', 'people'],
  ['/people/:id', 'person'],
  ['/communities', 'communities'],
  ['/communities/new', 'communityNew'],
  ['/communities/:id', 'community'],
  ['/admin', 'admin'],
  ['/admin/users', 'adminUsers'],
  ['/admin/tokens', 'adminTokens'],
  ['/admin/audit', 'adminAudit'],
  ['/admin/channels', 'adminChannels'],
  ['/ask/:slug', 'ask'],
  ['/follow/:token', 'follow'],
];

const ID_SEGMENT = /^[1-9][0-9]{0,17}$/;
const WORD_SEGMENT = /^[A-Za-z0-9_-]{1,200}$/;

const CHANGE_EVENT = 'relais:navigate';

/** The current path, without a trailing slash (except for "/"). */
export function currentPath(): string {
  return window.location.pathname.replace(/\/+$/, '') || '/';
}

export function matchRoute(path: string): Match {
  const segments = path.split('/');
  for (const [pattern, route] of ROUTES) {
    const parts = pattern.split('/');
    if (parts.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < parts.length && ok; i++) {
      const part = parts[i]!;
      const segment = segments[i]!;
      if (part.startsWith(':')) {
        const name = part.slice(1);
        if ((name === 'id' ? ID_SEGMENT : WORD_SEGMENT).test(segment)) params[name] = segment;
        else ok = false;
      } else if (part !== segment) {
        ok = false;
      }
    }
    if (ok) return { route, params };
  }
  return { route: 'notfound', params: {} };
}

/** Where the browser is now: path, query and fragment, as a `next` for the sign-in page. */
export function currentLocation(): string {
  return window.location.pathname + window.location.search + window.location.hash;
}

/**
 * A `next` parameter made safe: only a path of this site ("/people?q=x"), never another
 * origin ("//evil.example", "https://...") or a backslash trick; otherwise "/".
 */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.includes('\\')) return '/';
  try {
    const url = new URL(next, window.location.origin);
    if (url.origin !== window.location.origin) return '/';
    return url.pathname + url.search + url.hash;
  } catch {
    return '/';
  }
}

export function navigate(to: string, options: { replace?: boolean; keepScroll?: boolean } = {}): void {
  const here = window.location.pathname + window.location.search + window.location.hash;
  if (to !== here) {
    if (options.replace) window.history.replaceState(null, '', to);
    else window.history.pushState(null, '', to);
  }
  if (!options.keepScroll) window.scrollTo(0, 0);
  window.dispatchEvent(new Event(CHANGE_EVENT));
}

function useLocationValue(read: () => string): string {
  const [value, setValue] = useState(read);
  useEffect(() => {
    const update = () => setValue(read());
    window.addEventListener('popstate', update);
    window.addEventListener(CHANGE_EVENT, update);
    // A child's effect may have navigated before this listener was there.
    update();
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(CHANGE_EVENT, update);
    };
  }, []);
  return value;
}

/** The current query string ("?q=x" or ""), re-rendering the caller when it changes. */
export function useSearch(): string {
  return useLocationValue(() => window.location.search);
}

/** Re-renders the caller whenever the path changes (link, navigate() or back/forward). */
export function usePath(): string {
  return useLocationValue(currentPath);
}

/**
 * Turns clicks on ordinary same-origin links inside `root` into client-side
 * navigation, so pages use plain <a href="/people">. Left alone: modified or
 * non-primary clicks, target/download links, other origins, /api/ and in-page
 * #fragment links. Returns a function that removes the listener.
 */
export function interceptLinks(root: HTMLElement): () => void {
  const onClick = (event: MouseEvent) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = (event.target as Element | null)?.closest?.('a');
    if (!link || !root.contains(link) || !link.hasAttribute('href')) return;
    if (link.target && link.target !== '_self') return;
    if (link.hasAttribute('download') || link.getAttribute('rel')?.includes('external')) return;
    const url = new URL(link.href, window.location.href);
    if (url.origin !== window.location.origin || url.pathname.startsWith('/api/')) return;
    if (url.pathname === window.location.pathname && url.search === window.location.search && url.hash) return;
    event.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  };
  root.addEventListener('click', onClick);
  return () => root.removeEventListener('click', onClick);
}
