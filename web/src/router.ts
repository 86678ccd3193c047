import { useEffect, useState } from 'preact/hooks';

// Client-side routing with the History API. relais answers every GET outside
// /api/ with index.html, so any of these paths can be loaded directly.

export type Route = 'home' | 'signin' | 'questions' | 'communities' | 'people' | 'notfound';

const ROUTES: Readonly<Record<string, Route>> = {
  '/': 'home',
  '/signin': 'signin',
  '/questions': 'questions',
  '/communities': 'communities',
  '/people': 'people',
};

const CHANGE_EVENT = 'relais:navigate';

/** The current path, without a trailing slash (except for "/"). */
export function currentPath(): string {
  return window.location.pathname.replace(/\/+$/, '') || '/';
}

export function matchRoute(path: string): Route {
  return Object.prototype.hasOwnProperty.call(ROUTES, path) ? ROUTES[path]! : 'notfound';
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const here = window.location.pathname + window.location.search + window.location.hash;
  if (to !== here) {
    if (options.replace) window.history.replaceState(null, '', to);
    else window.history.pushState(null, '', to);
  }
  window.scrollTo(0, 0);
  window.dispatchEvent(new Event(CHANGE_EVENT));
}

/** Re-renders the caller whenever the path changes (link, navigate() or back/forward). */
export function usePath(): string {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const update = () => setPath(currentPath());
    window.addEventListener('popstate', update);
    window.addEventListener(CHANGE_EVENT, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(CHANGE_EVENT, update);
    };
  }, []);
  return path;
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
