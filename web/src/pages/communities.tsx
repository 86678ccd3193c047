import { useState } from 'preact/hooks';
import { apiFetch } from '../api';
import { useI18n, type I18n } from '../i18n';
import { errorText } from '../errors';
import { usePagedList } from '../hooks';
import { useSession } from '../session';
import type { CommunityListItem, MemberRole, MemberStatus, Membership, Visibility } from '../types';
import { TagChips } from '../components/chips';
import { Status } from '../components/forms';
import { LoadError, useTitle } from '../components/views';

/** "Manager", "Request pending", "Invited"... for a membership, or null for none. */
export function membershipText(t: I18n['t'], role: MemberRole | null, status: MemberStatus | null): string | null {
  if (!status) return null;
  if (status === 'requested') return t('membership.requested');
  if (status === 'invited') return t('membership.invited');
  return t('membership.active', { role: t(`role.${role ?? 'member'}` as const) });
}

/** The button that gets one in: Join, Ask to join, Accept the invitation; null when there is none. */
export function joinLabel(
  t: I18n['t'],
  visibility: Visibility,
  status: MemberStatus | null,
): string | null {
  if (status === 'invited') return t('community.accept');
  if (status) return null;
  if (visibility === 'open') return t('community.join');
  if (visibility === 'request') return t('community.ask');
  return null;
}

/** /communities: every community one may see, with one's membership and a way in. */
export function CommunitiesPage() {
  const { t } = useI18n();
  const { user } = useSession();
  const list = usePagedList<CommunityListItem>('/communities?limit=50');
  const [busyId, setBusyId] = useState<number | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<{ id: number; text: string } | null>(null);
  const canCreate = user?.role === 'admin' || user?.role === 'comms';
  useTitle(t('communities.title'));

  const join = async (c: CommunityListItem) => {
    if (busyId !== null) return;
    setBusyId(c.id);
    setStatus(null);
    setError(null);
    try {
      const m = await apiFetch<Pick<Membership, 'role' | 'status'>>(`/communities/${c.id}/join`, { method: 'POST' });
      list.setItems((items) =>
        items.map((x) =>
          x.id === c.id
            ? {
                ...x,
                my_role: m.role,
                my_status: m.status,
                member_count: x.member_count + (m.status === 'active' && x.my_status !== 'active' ? 1 : 0),
              }
            : x,
        ),
      );
      setStatus(t(m.status === 'active' ? 'community.joined' : 'community.requestSent', { name: c.name }));
    } catch (err) {
      setError({ id: c.id, text: errorText(err, t) });
    } finally {
      setBusyId(null);
    }
  };

  return (
    <section class="page" data-page="communities">
      <div class="page-head">
        <h1 tabIndex={-1}>{t('communities.title')}</h1>
        {canCreate && (
          <a class="button" href="/communities/new">
            {t('communities.create')}
          </a>
        )}
      </div>
      <p class="lead">{t('communities.intro')}</p>
      <Status message={status} />
      {list.error !== null && <LoadError error={list.error} onRetry={list.reload} />}
      {list.loading && list.items.length === 0 && <p role="status">{t('common.loading')}</p>}
      {!list.loading && !list.error && list.items.length === 0 && <p>{t('communities.none')}</p>}
      <ul class="cards" aria-label={t('communities.title')}>
        {list.items.map((c) => {
          const mine = membershipText(t, c.my_role, c.my_status);
          const action = joinLabel(t, c.visibility, c.my_status);
          return (
            <li key={c.id} class="card community-card">
              <h2 class="card-title">
                <a href={`/communities/${c.id}`}>{c.name}</a>
              </h2>
              <p class="meta">
                <span class={`badge badge-${c.visibility}`}>{t(`visibility.${c.visibility}` as const)}</span>{' '}
                <span class="muted">{t('community.memberCount', { count: c.member_count })}</span>
                {mine && (
                  <>
                    {' '}
                    <span class="badge badge-accent">{mine}</span>
                  </>
                )}
              </p>
              {c.description && <p>{c.description}</p>}
              <TagChips tags={c.topics} label={t('community.topicsOf', { name: c.name })} />
              {action && (
                <button
                  type="button"
                  class="button button-small"
                  aria-label={`${action} — ${c.name}`}
                  aria-disabled={busyId === c.id ? 'true' : undefined}
                  onClick={() => void join(c)}
                >
                  {action}
                </button>
              )}
              {error?.id === c.id && (
                <p class="form-error" role="alert">
                  {error.text}
                </p>
              )}
            </li>
          );
        })}
      </ul>
      {list.more && (
        <button type="button" class="button button-secondary more" onClick={list.loadMore}>
          {list.loading ? t('common.loading') : t('communities.more')}
        </button>
      )}
    </section>
  );
}
