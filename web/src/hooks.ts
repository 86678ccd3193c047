import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, apiFetch } from './api';
import { reportError } from './report';
import type { Page } from './types';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  setData: (update: (current: T | undefined) => T | undefined) => void;
}

function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}

/** GETs `path` (under /api/v1) whenever it changes; `null` waits. Earlier answers are dropped. */
export function useApi<T>(path: string | null): Loaded<T> {
  const [data, setDataState] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(path !== null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    if (path === null) return;
    const controller = new AbortController();
    setLoading(true);
    setError(null);
    apiFetch<T>(path, { signal: controller.signal }).then(
      (value) => {
        setDataState(value);
        setLoading(false);
      },
      (err: unknown) => {
        if (isAbort(err)) return;
        if (!(err instanceof ApiError)) reportError(err);
        setError(err);
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [path, tick]);

  const reload = useCallback(() => setTick((n) => n + 1), []);
  const setData = useCallback((update: (current: T | undefined) => T | undefined) => setDataState(update), []);
  return { data, error, loading, reload, setData };
}

export interface PagedList<T> {
  items: T[];
  error: unknown;
  loading: boolean;
  /** True while there is a next page. */
  more: boolean;
  loadMore: () => void;
  reload: () => void;
  setItems: (update: (items: T[]) => T[]) => void;
}

/**
 * A cursor-paginated list: `path` is the first page's address (with its query, without
 * `cursor`), or null to wait; loadMore() appends the next page.
 */
export function usePagedList<T>(path: string | null): PagedList<T> {
  const [items, setItemsState] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(path !== null);
  const [tick, setTick] = useState(0);
  const controller = useRef<AbortController | null>(null);

  const fetchPage = useCallback(
    (after: string | null, append: boolean) => {
      if (path === null) return;
      controller.current?.abort();
      const c = new AbortController();
      controller.current = c;
      setLoading(true);
      setError(null);
      const sep = path.includes('?') ? '&' : '?';
      const url = after ? `${path}${sep}cursor=${encodeURIComponent(after)}` : path;
      apiFetch<Page<T>>(url, { signal: c.signal }).then(
        (page) => {
          setItemsState((current) => (append ? [...current, ...page.items] : page.items));
          setCursor(page.next_cursor);
          setLoading(false);
        },
        (err: unknown) => {
          if (isAbort(err)) return;
          if (!(err instanceof ApiError)) reportError(err);
          setError(err);
          setLoading(false);
        },
      );
    },
    [path],
  );

  useEffect(() => {
    setItemsState([]);
    setCursor(null);
    fetchPage(null, false);
    return () => controller.current?.abort();
  }, [fetchPage, tick]);

  return {
    items,
    error,
    loading,
    more: cursor !== null,
    loadMore: () => {
      if (cursor !== null && !loading) fetchPage(cursor, true);
    },
    reload: () => setTick((n) => n + 1),
    setItems: (update) => setItemsState(update),
  };
}
