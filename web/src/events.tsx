import { createContext } from 'preact';
import type { ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { API_BASE, apiFetch } from './api';
import type { Notification } from './types';

// Live events: one EventSource per tab while someone is signed in (GET /api/v1/events, the
// session cookie authenticates it). The browser reconnects by itself after a dropped
// connection and sends Last-Event-ID, so the server replays what was missed. When the server
// refuses the stream (an HTTP error closes an EventSource for good), we open a new one later,
// with ?last_event_id= so that nothing is lost meanwhile.

export const EVENT_KINDS = [
  'question.assigned',
  'question.unassigned',
  'question.escalated',
  'question.triage',
  'question.customer_message',
  'question.comment',
  'question.mentioned',
] as const;

/** The kinds that change what is in someone's inbox (the badge counts them). */
const INBOX_KINDS: ReadonlySet<string> = new Set([
  'question.assigned',
  'question.escalated',
  'question.unassigned',
  'question.customer_message',
  'question.triage',
  'question.mentioned',
]);

export type Listener = (event: Notification) => void;

interface Events {
  /** Calls `listener` for every notification that arrives; returns the unsubscribe function. */
  subscribe: (listener: Listener) => () => void;
  /** Notifications that arrived since the inbox was last seen. */
  unseen: number;
  /** The inbox is on screen: clears the badge and marks what arrived as read. */
  markSeen: () => void;
  /** Bumped each time the stream (re)opens, so that views can refresh what they show. */
  generation: number;
}

const EventsContext = createContext<Events>({
  subscribe: () => () => {},
  unseen: 0,
  markSeen: () => {},
  generation: 0,
});

export function useEvents(): Events {
  return useContext(EventsContext);
}

/** Subscribes `listener` (the latest one each render) to live notifications. */
export function useLiveEvents(listener: Listener): void {
  const { subscribe } = useEvents();
  const ref = useRef(listener);
  ref.current = listener;
  useEffect(() => subscribe((event) => ref.current(event)), [subscribe]);
}

const RETRY_MIN_MS = 2000;
const RETRY_MAX_MS = 60000;

function parse(data: string): Notification | null {
  try {
    const value = JSON.parse(data) as Notification;
    return value && typeof value === 'object' ? value : null;
  } catch {
    return null;
  }
}

/** Opens the stream while `enabled` (someone is signed in) and shares it with the app. */
export function EventsProvider({ enabled, children }: { enabled: boolean; children: ComponentChildren }) {
  const listeners = useRef(new Set<Listener>());
  const lastId = useRef<number>(0);
  const seenUpTo = useRef<number>(0);
  const [unseen, setUnseen] = useState(0);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    if (!enabled || typeof EventSource === 'undefined') return;
    let source: EventSource | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let delay = RETRY_MIN_MS;
    let stopped = false;

    const deliver = (message: MessageEvent<string>) => {
      const event = parse(message.data);
      if (!event) return;
      const id = Number(message.lastEventId || event.id);
      if (Number.isFinite(id) && id > 0) {
        // A replay after a reconnection may repeat what we have already shown.
        if (id <= lastId.current) return;
        lastId.current = id;
      }
      if (!event.kind) event.kind = message.type;
      if (INBOX_KINDS.has(event.kind)) setUnseen((n) => n + 1);
      for (const listener of [...listeners.current]) listener(event);
    };

    const open = () => {
      if (stopped) return;
      const since = lastId.current > 0 ? `?last_event_id=${lastId.current}` : '';
      const es = new EventSource(`${API_BASE}/events${since}`);
      source = es;
      es.addEventListener('open', () => {
        delay = RETRY_MIN_MS;
        setGeneration((n) => n + 1);
      });
      for (const kind of EVENT_KINDS) es.addEventListener(kind, deliver as EventListener);
      es.addEventListener('message', deliver as EventListener);
      es.addEventListener('error', () => {
        // CONNECTING: the browser retries by itself. CLOSED: it gave up (an HTTP error).
        if (es.readyState !== EventSource.CLOSED || stopped) return;
        es.close();
        // The refusal may mean that the session ended: asking GET /me says so to the app
        // (a 401 signs it out, which stops this stream) instead of retrying in vain.
        apiFetch('/me').catch(() => {});
        timer = setTimeout(open, delay);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      });
    };

    open();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      source?.close();
    };
  }, [enabled]);

  useEffect(() => {
    if (!enabled) setUnseen(0);
  }, [enabled]);

  const subscribe = useCallback((listener: Listener) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);

  const markSeen = useCallback(() => {
    setUnseen(0);
    const upTo = lastId.current;
    if (upTo > seenUpTo.current) {
      seenUpTo.current = upTo;
      apiFetch('/notifications/read', { method: 'POST', body: { up_to: upTo } }).catch(() => {});
    }
  }, []);

  const value = useMemo<Events>(
    () => ({ subscribe, unseen, markSeen, generation }),
    [subscribe, unseen, markSeen, generation],
  );
  return <EventsContext.Provider value={value}>{children}</EventsContext.Provider>;
}
