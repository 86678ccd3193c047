import { createContext } from 'preact';
import type { ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, apiFetch, setCsrfToken, setUnauthenticatedHandler } from './api';
import { useI18n, type MessageKey } from './i18n';
import { currentLocation, navigate } from './router';
import type { Me, SessionUser } from './types';
import { Loading } from './components/views';

// The session cookie is HttpOnly, so the app cannot see it. It remembers in localStorage
// whether it signed in (a hint, not a secret) and only then asks GET /me who is signed
// in: a visitor who never signed in causes no 401 on every page. The CSRF token is kept
// in memory (api.ts) and comes back from GET /me after a reload.
const HINT_KEY = 'relais.session';

function readHint(): boolean {
  try {
    return localStorage.getItem(HINT_KEY) === '1';
  } catch {
    return false;
  }
}

function writeHint(signedIn: boolean): void {
  try {
    if (signedIn) localStorage.setItem(HINT_KEY, '1');
    else localStorage.removeItem(HINT_KEY);
  } catch {
    // Without storage the session is still found by signing in again.
  }
}

export type SessionStatus = 'loading' | 'signed-in' | 'signed-out';

export interface Session {
  status: SessionStatus;
  user: SessionUser | null;
  /** Signs in; resolves with the user, rejects with ApiError (invalid_credentials, rate_limited...). */
  signIn: (email: string, password: string) => Promise<SessionUser>;
  /** Ends the session on the server (best effort) and here. */
  signOut: () => Promise<void>;
  /** Asks GET /me again (after another tab signed in or out). */
  refresh: () => Promise<void>;
  /** Updates the user after a profile change (name, locale). */
  updateUser: (changes: Partial<SessionUser>) => void;
  /** A one-time message for the sign-in page ("You have signed out."). */
  flash: MessageKey | null;
  takeFlash: () => MessageKey | null;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside <SessionProvider>');
  return session;
}

function toUser(me: SessionUser): SessionUser {
  return { id: me.id, email: me.email, display_name: me.display_name, role: me.role, locale: me.locale };
}

export function SessionProvider({ children }: { children: ComponentChildren }) {
  const { setLang } = useI18n();
  const [status, setStatus] = useState<SessionStatus>(() => (readHint() ? 'loading' : 'signed-out'));
  const [user, setUser] = useState<SessionUser | null>(null);
  const [flash, setFlash] = useState<MessageKey | null>(null);
  const statusRef = useRef(status);
  statusRef.current = status;

  const signedOut = useCallback((message: MessageKey | null) => {
    setCsrfToken(null);
    writeHint(false);
    setUser(null);
    setStatus('signed-out');
    if (message) setFlash(message);
  }, []);

  const refresh = useCallback(async () => {
    try {
      const me = await apiFetch<Me>('/me');
      setCsrfToken(me.csrf_token);
      writeHint(true);
      setUser(toUser(me));
      setStatus('signed-in');
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        signedOut(null);
      } else if (statusRef.current === 'loading') {
        // The server is unreachable: show the app as signed out rather than spin forever;
        // the hint stays, so the next load asks again.
        setCsrfToken(null);
        setUser(null);
        setStatus('signed-out');
      }
    }
  }, [signedOut]);

  useEffect(() => {
    if (status === 'loading') void refresh();
    // A 401 `unauthenticated` anywhere means the session ended (timeout, revoked, disabled).
    setUnauthenticatedHandler(() => {
      if (statusRef.current === 'signed-in') signedOut('signin.expired');
    });
    // Another tab signed in or out.
    const onStorage = (event: StorageEvent) => {
      if (event.key !== HINT_KEY) return;
      if (event.newValue === '1') void refresh();
      else if (statusRef.current !== 'signed-out') signedOut(null);
    };
    window.addEventListener('storage', onStorage);
    return () => {
      setUnauthenticatedHandler(null);
      window.removeEventListener('storage', onStorage);
    };
  }, []);

  const signIn = useCallback(
    async (email: string, password: string) => {
      const res = await apiFetch<{ user: SessionUser; csrf_token: string }>('/session', {
        method: 'POST',
        body: { email, password },
      });
      setCsrfToken(res.csrf_token);
      writeHint(true);
      const signedIn = toUser(res.user);
      setUser(signedIn);
      setStatus('signed-in');
      setFlash(null);
      setLang(signedIn.locale);
      return signedIn;
    },
    [setLang],
  );

  const signOut = useCallback(async () => {
    try {
      await apiFetch('/session', { method: 'DELETE' });
    } catch {
      // Already ended on the server (401) or unreachable: sign out here anyway.
    }
    signedOut('signin.signedOut');
  }, [signedOut]);

  const updateUser = useCallback((changes: Partial<SessionUser>) => {
    setUser((current) => (current ? { ...current, ...changes } : current));
  }, []);

  const takeFlash = useCallback(() => {
    const message = flash;
    if (message) setFlash(null);
    return message;
  }, [flash]);

  const value = useMemo<Session>(
    () => ({ status, user, signIn, signOut, refresh, updateUser, flash, takeFlash }),
    [status, user, signIn, signOut, refresh, updateUser, flash, takeFlash],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

/** The sign-in page's address that comes back here afterwards. */
export function signInPath(next: string = currentLocation()): string {
  return next === '/' ? '/signin' : `/signin?next=${encodeURIComponent(next)}`;
}

/** Renders its children for a signed-in person; otherwise sends them to the sign-in page. */
export function RequireSession({ children }: { children: ComponentChildren }) {
  const { status } = useSession();
  useEffect(() => {
    if (status === 'signed-out') navigate(signInPath(), { replace: true });
  }, [status]);
  if (status !== 'signed-in') return <Loading />;
  return <>{children}</>;
}
