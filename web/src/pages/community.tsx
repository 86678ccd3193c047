import { useEffect, useState } from 'preact/hooks';
import { apiFetch } from '../api';
import { useI18n } from '../i18n';
import { errorText } from '../errors';
import { formatDate } from '../format';
import { useApi, usePagedList } from '../hooks';
import { useSession } from '../session';
import { MEMBER_ROLES, type CommunityDetail, type Member, type MemberRole, type Membership } from '../types';
import { ExpertiseChips, TagChips } from '../components/chips';
import { Status } from '../components/forms';
import { PersonPicker } from '../components/personpicker';
import { LoadError, Loading, gateView, useTitle } from '../components/views';
import { joinLabel, membershipText } from './communities';
import { RulesSection } from './rules';

/** /communities/:id: a community, one's membership, its members; managers manage them here. */
export function CommunityPage({ id }: { id: string }) {
  const { t } = useI18n();
  const { user } = useSession();
  const community = useApi<CommunityDetail>(`/communities/${id}`);
  const members = usePagedList<Member>(`/communities/${id}/members?limit=50`);
  // What just happened, said where it happened (one's membership, the manager tools, the members).
  const [status, setStatus] = useState<{ text: string; where: 'membership' | 'manage' | 'members' } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const c = community.data;
  const changed = (where: 'manage' | 'members') => (text: string) => {
    setStatus({ text, where });
    community.reload();
    members.reload();
  };
  const gate = gateView(community.error, t('community.missing'));
  useTitle(gate ? false : (c?.name ?? t('community.title')));
  if (gate) return gate;

  /** Runs a change, then reloads what it touched. */
  const act = async (work: () => Promise<string>, reloadMembers = true) => {
    if (busy) return;
    setBusy(true);
    setStatus(null);
    setError(null);
    try {
      setStatus({ text: await work(), where: 'membership' });
      community.reload();
      if (reloadMembers) members.reload();
    } catch (err) {
      setError(errorText(err, t));
    } finally {
      setBusy(false);
    }
  };

  const join = () =>
    act(async () => {
      const m = await apiFetch<Pick<Membership, 'role' | 'status'>>(`/communities/${id}/join`, { method: 'POST' });
      return t(m.status === 'active' ? 'community.joined' : 'community.requestSent', { name: c?.name ?? '' });
    });

  const leave = (message: 'community.left' | 'community.withdrawn' | 'community.declined') =>
    act(async () => {
      await apiFetch(`/communities/${id}/leave`, { method: 'POST' });
      return t(message, { name: c?.name ?? '' });
    });

  return (
    <section class="page" data-page="community">
      <p class="breadcrumb">
        <a href="/communities">{t('community.back')}</a>
      </p>
      <h1 tabIndex={-1}>{c?.name ?? t('community.title')}</h1>
      {community.error ? (
        <LoadError error={community.error} onRetry={community.reload} />
      ) : !c ? (
        <Loading />
      ) : (
        <>
          <p class="meta">
            <span class={`badge badge-${c.visibility}`}>{t(`visibility.${c.visibility}` as const)}</span>{' '}
            <span class="muted">{t('community.memberCount', { count: c.member_count })}</span>
          </p>
          {c.description && <p class="lead preserve-lines">{c.description}</p>}
          <TagChips tags={c.topics} label={t('community.topicsOf', { name: c.name })} />
          {c.managers.length > 0 && (
            <p>
              {t('community.managedBy')}{' '}
              {c.managers.map((m, i) => (
                <span key={m.id}>
                  {i > 0 && ', '}
                  <a href={`/people/${m.id}`}>{m.display_name}</a>
                </span>
              ))}
            </p>
          )}

          <section class="membership card" aria-labelledby="membership-heading">
            <h2 id="membership-heading">{t('community.membership')}</h2>
            <p>{membershipText(t, c.my_role, c.my_status) ?? t('membership.none')}</p>
            {c.my_status === 'requested' && <p class="muted">{t('community.requestWaiting')}</p>}
            {c.my_status === 'invited' && <p class="muted">{t('community.invitedText')}</p>}
            <div class="actions">
              {joinLabel(t, c.visibility, c.my_status) && (
                <button type="button" class="button" onClick={() => void join()}>
                  {joinLabel(t, c.visibility, c.my_status)}
                </button>
              )}
              {c.my_status === 'active' && (
                <button type="button" class="button button-secondary" onClick={() => void leave('community.left')}>
                  {t('community.leave')}
                </button>
              )}
              {c.my_status === 'requested' && (
                <button type="button" class="button button-secondary" onClick={() => void leave('community.withdrawn')}>
                  {t('community.withdraw')}
                </button>
              )}
              {c.my_status === 'invited' && (
                <button type="button" class="button button-secondary" onClick={() => void leave('community.declined')}>
                  {t('community.decline')}
                </button>
              )}
            </div>
            {error && (
              <p class="form-error" role="alert">
                {error}
              </p>
            )}
            <Status message={status?.where === 'membership' ? status.text : null} />
          </section>

          {c.manages && (
            <ManagerTools
              id={id}
              communityName={c.name}
              members={members.items}
              status={status?.where === 'manage' ? status.text : null}
              onChange={changed('manage')}
            />
          )}

          {(c.manages || user?.role === 'admin') && <RulesSection communityId={id} />}

          <section aria-labelledby="members-heading">
            <h2 id="members-heading">{t('community.members')}</h2>
            {members.error !== null && <LoadError error={members.error} onRetry={members.reload} />}
            {members.loading && members.items.length === 0 && <Loading />}
            {!members.loading && !members.error && members.items.length === 0 && <p>{t('community.noMembers')}</p>}
            <ul class="rows" aria-label={t('community.members')}>
              {members.items.map((m) => (
                <MemberRow key={m.id} member={m} communityId={id} manages={c.manages} onChange={changed('members')} />
              ))}
            </ul>
            <Status message={status?.where === 'members' ? status.text : null} />
            {members.more && (
              <button type="button" class="button button-secondary more" onClick={members.loadMore}>
                {members.loading ? t('common.loading') : t('community.moreMembers')}
              </button>
            )}
          </section>
        </>
      )}
    </section>
  );
}

/** A member: name, job, role; for managers, change the role or remove them. */
function MemberRow({
  member,
  communityId,
  manages,
  onChange,
}: {
  member: Member;
  communityId: string;
  manages: boolean;
  onChange: (message: string) => void;
}) {
  const { t } = useI18n();
  const { user } = useSession();
  const [role, setRole] = useState<MemberRole>(member.role);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const isMe = user?.id === member.id;
  useEffect(() => setRole(member.role), [member.role]);

  const run = async (work: () => Promise<string>) => {
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      onChange(await work());
    } catch (err) {
      setError(errorText(err, t));
      setRole(member.role);
    } finally {
      setBusy(false);
    }
  };

  const changeRole = () =>
    run(async () => {
      await apiFetch(`/communities/${communityId}/members/${member.id}`, { method: 'PUT', body: { role } });
      return t('community.roleChanged', { name: member.display_name, role: t(`role.${role}` as const) });
    });

  const remove = () =>
    run(async () => {
      await apiFetch(`/communities/${communityId}/members/${member.id}`, { method: 'DELETE' });
      return t('community.removed', { name: member.display_name });
    });

  const roleId = `member-role-${member.id}`;
  return (
    <li class="row member-row">
      <span class="row-main">
        <a href={`/people/${member.id}`}>{member.display_name}</a>
        {isMe && <span class="badge badge-accent">{t('common.you')}</span>}{' '}
        <span class="badge">{t(`role.${member.role}` as const)}</span>
        {(member.job_title || member.department) && (
          <>
            <br />
            <span class="muted small">{[member.job_title, member.department].filter(Boolean).join(' · ')}</span>
          </>
        )}
        <ExpertiseChips items={member.expertise.slice(0, 3)} label={t('people.expertiseOf', { name: member.display_name })} />
      </span>
      {manages && (
        <span class="row-actions">
          <label class="visually-hidden" for={roleId}>
            {t('community.roleOf', { name: member.display_name })}
          </label>
          <select id={roleId} value={role} onChange={(e) => setRole(e.currentTarget.value as MemberRole)}>
            {MEMBER_ROLES.map((r) => (
              <option key={r} value={r}>
                {t(`role.${r}` as const)}
              </option>
            ))}
          </select>
          <button
            type="button"
            class="button button-small"
            aria-label={t('community.changeRoleOf', { name: member.display_name })}
            aria-disabled={role === member.role || busy ? 'true' : undefined}
            onClick={() => {
              if (role !== member.role) void changeRole();
            }}
          >
            {t('community.changeRole')}
          </button>
          <button
            type="button"
            class="button button-secondary button-small"
            aria-label={t('community.removeMember', { name: member.display_name })}
            onClick={() => void remove()}
          >
            {t('common.remove')}
          </button>
        </span>
      )}
      {error && (
        <p class="form-error row-error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}

/** Requests to approve or decline, invitations, and inviting a person. */
function ManagerTools({
  id,
  communityName,
  members,
  status,
  onChange,
}: {
  id: string;
  communityName: string;
  members: readonly Member[];
  status: string | null;
  onChange: (message: string) => void;
}) {
  const { t, lang } = useI18n();
  const requests = usePagedList<Member>(`/communities/${id}/members?status=requested&limit=200`);
  const invited = usePagedList<Member>(`/communities/${id}/members?status=invited&limit=200`);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (work: () => Promise<string>) => {
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const message = await work();
      requests.reload();
      invited.reload();
      onChange(message);
    } catch (err) {
      setError(errorText(err, t));
    } finally {
      setBusy(false);
    }
  };

  const approve = (m: Member) =>
    run(async () => {
      await apiFetch(`/communities/${id}/members/${m.id}/approve`, { method: 'POST' });
      return t('community.approved', { name: m.display_name });
    });

  const decline = (m: Member) =>
    run(async () => {
      await apiFetch(`/communities/${id}/members/${m.id}`, { method: 'DELETE' });
      return t('community.requestDeclined', { name: m.display_name });
    });

  const cancelInvitation = (m: Member) =>
    run(async () => {
      await apiFetch(`/communities/${id}/members/${m.id}`, { method: 'DELETE' });
      return t('community.invitationCancelled', { name: m.display_name });
    });

  const invite = (person: { id: number; display_name: string }) =>
    run(async () => {
      const m = await apiFetch<Membership>(`/communities/${id}/invitations`, {
        method: 'POST',
        body: { user_id: person.id },
      });
      return t(m.status === 'active' ? 'community.inviteJoined' : 'community.invitedPerson', {
        name: person.display_name,
      });
    });

  const known = new Set<number>([
    ...members.map((m) => m.id),
    ...requests.items.map((m) => m.id),
    ...invited.items.map((m) => m.id),
  ]);

  return (
    <section class="card manager-tools" aria-labelledby="manage-heading">
      <h2 id="manage-heading">{t('community.manage', { name: communityName })}</h2>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      <Status message={status} />
      <h3 id="requests-heading">{t('community.requests')}</h3>
      {requests.error !== null && <LoadError error={requests.error} onRetry={requests.reload} />}
      {!requests.loading && !requests.error && requests.items.length === 0 && (
        <p class="muted">{t('community.noRequests')}</p>
      )}
      <ul class="rows" aria-labelledby="requests-heading">
        {requests.items.map((m) => (
          <li key={m.id} class="row">
            <span class="row-main">
              <a href={`/people/${m.id}`}>{m.display_name}</a>
              <br />
              <span class="muted small">
                {[m.job_title, m.department].filter(Boolean).join(' · ')}
                {m.job_title || m.department ? ' — ' : ''}
                {t('community.askedOn', { date: formatDate(m.since, lang) })}
              </span>
            </span>
            <span class="row-actions">
              <button
                type="button"
                class="button button-small"
                aria-label={t('community.approveLabel', { name: m.display_name })}
                onClick={() => void approve(m)}
              >
                {t('community.approve')}
              </button>
              <button
                type="button"
                class="button button-secondary button-small"
                aria-label={t('community.declineLabel', { name: m.display_name })}
                onClick={() => void decline(m)}
              >
                {t('community.declineRequest')}
              </button>
            </span>
          </li>
        ))}
      </ul>

      <h3 id="invitations-heading">{t('community.invitations')}</h3>
      {invited.error !== null && <LoadError error={invited.error} onRetry={invited.reload} />}
      {!invited.loading && !invited.error && invited.items.length === 0 && (
        <p class="muted">{t('community.noInvitations')}</p>
      )}
      <ul class="rows" aria-labelledby="invitations-heading">
        {invited.items.map((m) => (
          <li key={m.id} class="row">
            <span class="row-main">
              <a href={`/people/${m.id}`}>{m.display_name}</a>{' '}
              <span class="muted small">{t('community.invitedOn', { date: formatDate(m.since, lang) })}</span>
            </span>
            <button
              type="button"
              class="button button-secondary button-small"
              aria-label={t('community.cancelInvitationLabel', { name: m.display_name })}
              onClick={() => void cancelInvitation(m)}
            >
              {t('community.cancelInvitation')}
            </button>
          </li>
        ))}
      </ul>

      <h3>{t('community.invite')}</h3>
      <PersonPicker
        id="invite-search"
        label={t('community.inviteSearch')}
        hint={t('community.inviteHint')}
        actionText={t('community.inviteAction')}
        actionLabel={(p) => t('community.inviteLabel', { name: p.display_name })}
        exclude={known}
        onPick={(p) => void invite(p)}
      />
    </section>
  );
}
