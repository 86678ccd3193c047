import { useEffect, useState } from 'preact/hooks';
import { ApiError, apiFetch } from '../../api';
import { useI18n, type MessageKey } from '../../i18n';
import { errorText } from '../../errors';
import { formatDateTime } from '../../format';
import { useApi } from '../../hooks';
import type { Page, SessionInfo } from '../../types';
import { Status } from '../../components/forms';
import { LoadError, Loading } from '../../components/views';

/** "Chromium 126 · Linux" from a User-Agent, or the start of it; null when there is none. */
export function describeAgent(ua: string): string | null {
  if (!ua.trim()) return null;
  const browser =
    /(Edg|OPR|Firefox|Chromium|Chrome|Safari)\/(\d+)/.exec(ua) ?? /(curl|node|Wget)\/?(\S*)/i.exec(ua);
  const os = /(Windows|Mac OS X|Android|iPhone|iPad|Linux|CrOS)/.exec(ua);
  if (!browser) return ua.slice(0, 60);
  const name = { Edg: 'Edge', OPR: 'Opera' }[browser[1]!] ?? browser[1]!;
  return `${name}${browser[2] ? ` ${browser[2]}` : ''}${os ? ` · ${os[1]!.replace('Mac OS X', 'macOS')}` : ''}`;
}

/** One's signed-in browsers and devices; sign out any other one, or all of them. */
export function SessionsSection({ version }: { version: number }) {
  const { t, lang } = useI18n();
  const list = useApi<Page<SessionInfo>>('/me/sessions');
  // A password change ends the other sessions: list them again.
  useEffect(() => {
    if (version > 0) list.reload();
  }, [version]);
  const [status, setStatus] = useState<MessageKey | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const sessions = list.data?.items ?? [];
  const others = sessions.filter((s) => !s.current);

  const revoke = async (targets: SessionInfo[]) => {
    if (busy) return;
    setBusy(true);
    setStatus(null);
    setError(null);
    try {
      for (const s of targets) {
        try {
          await apiFetch(`/me/sessions/${s.id}`, { method: 'DELETE' });
        } catch (err) {
          // Already ended: that is what was wanted.
          if (!(err instanceof ApiError && err.status === 404)) throw err;
        }
      }
      list.setData((current) =>
        current ? { ...current, items: current.items.filter((s) => !targets.some((x) => x.id === s.id)) } : current,
      );
      setStatus(targets.length > 1 ? 'sessions.allRevoked' : 'sessions.revoked');
    } catch (err) {
      setError(errorText(err, t));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card" id="sessions" aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">{t('sessions.title')}</h2>
      <p class="muted">{t('sessions.intro')}</p>
      {list.error ? (
        <LoadError error={list.error} onRetry={list.reload} />
      ) : !list.data ? (
        <Loading />
      ) : (
        <>
          <ul class="rows">
            {sessions.map((s) => {
              const agent = describeAgent(s.user_agent) ?? t('sessions.unknownAgent');
              return (
                <li key={s.id} class="row">
                  <span class="row-main">
                    <strong>{agent}</strong>
                    {s.current && <span class="badge badge-accent">{t('sessions.current')}</span>}
                    <br />
                    <span class="muted small">
                      {t('sessions.details', {
                        ip: s.ip,
                        created: formatDateTime(s.created_at, lang),
                        seen: formatDateTime(s.last_seen_at, lang),
                      })}
                    </span>
                  </span>
                  {!s.current && (
                    <button
                      type="button"
                      class="button button-secondary button-small"
                      aria-label={t('sessions.revokeLabel', { agent, created: formatDateTime(s.created_at, lang) })}
                      onClick={() => void revoke([s])}
                    >
                      {t('sessions.revoke')}
                    </button>
                  )}
                </li>
              );
            })}
          </ul>
          {others.length > 1 && (
            <button type="button" class="button button-secondary" onClick={() => void revoke(others)}>
              {t('sessions.revokeOthers')}
            </button>
          )}
        </>
      )}
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      <Status message={status ? t(status) : null} />
    </section>
  );
}
