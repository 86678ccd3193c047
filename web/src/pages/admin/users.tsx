import { useEffect, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { apiFetch, query } from '../../api';
import { LANGS, LANG_NAMES, useI18n, type Lang } from '../../i18n';
import { errorText } from '../../errors';
import { formatDate, formatDateTime } from '../../format';
import { usePagedList } from '../../hooks';
import { useSession } from '../../session';
import { USER_ROLES, USER_STATUSES, type ResetLink, type User, type UserRole, type UserStatus } from '../../types';
import { FormError, SelectField, Status, SubmitButton, TextField, focusLater, useFormErrors } from '../../components/forms';
import { LoadError, gateView, useTitle } from '../../components/views';
import { AdminLayout } from './layout';
import { CopyField } from './copy';

interface Filters {
  q: string;
  role: UserRole | '';
  status: UserStatus | '';
}

/** /admin/users: accounts, with search and filters, creation, role, status and reset links. */
export function AdminUsersPage() {
  const { t, lang } = useI18n();
  const [filters, setFilters] = useState<Filters>({ q: '', role: '', status: '' });
  const [draft, setDraft] = useState<Filters>(filters);
  const list = usePagedList<User>(`/users${query({ ...filters, limit: 50 })}`);
  const [status, setStatus] = useState<string | null>(null);
  const [reset, setReset] = useState<{ user: User; link: ResetLink } | null>(null);
  const gate = gateView(list.error);
  useTitle(gate ? false : t('admin.users'));
  if (gate) return gate;

  const onFilter = (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    setFilters({ ...draft, q: draft.q.trim() });
  };

  const replace = (user: User) => list.setItems((items) => items.map((u) => (u.id === user.id ? user : u)));

  return (
    <AdminLayout title={t('admin.users')} page="admin-users">
      <form class="form search-form" role="search" aria-label={t('users.searchLabel')} onSubmit={onFilter}>
        <div class="field-row">
          <TextField
            id="users-q"
            type="search"
            label={t('users.q')}
            maxLength={200}
            value={draft.q}
            onValue={(q) => setDraft({ ...draft, q })}
            className="field-grow"
          />
          <SelectField<UserRole | ''>
            id="users-role"
            label={t('users.role')}
            value={draft.role}
            onValue={(role) => setDraft({ ...draft, role })}
            options={[{ value: '', label: t('users.anyRole') }, ...USER_ROLES.map((r) => ({ value: r, label: t(`userRole.${r}` as const) }))]}
          />
          <SelectField<UserStatus | ''>
            id="users-status"
            label={t('users.status')}
            value={draft.status}
            onValue={(s) => setDraft({ ...draft, status: s })}
            options={[{ value: '', label: t('users.anyStatus') }, ...USER_STATUSES.map((s) => ({ value: s, label: t(`userStatus.${s}` as const) }))]}
          />
        </div>
        <div class="actions">
          <button type="submit" class="button">
            {t('users.filter')}
          </button>
        </div>
      </form>

      <CreateUser
        onCreated={(user) => {
          list.setItems((items) => [user, ...items]);
          setStatus(t('users.created', { name: user.display_name }));
        }}
      />

      {reset && (
        <div class="card reveal" role="region" aria-labelledby="reset-heading">
          <h2 id="reset-heading">{t('users.resetFor', { name: reset.user.display_name })}</h2>
          <p>{t('users.resetOnce', { date: formatDateTime(reset.link.expires_at, lang) })}</p>
          <CopyField id="reset-url" label={t('users.resetLink')} value={new URL(reset.link.reset_url, window.location.origin).href} />
          <button type="button" class="button button-secondary" onClick={() => setReset(null)}>
            {t('common.done')}
          </button>
        </div>
      )}

      <Status message={status} />
      {list.error !== null && <LoadError error={list.error} onRetry={list.reload} />}
      <p class="result-count" role="status">
        {list.loading && list.items.length === 0
          ? t('common.loading')
          : list.items.length === 0 && !list.error
            ? t('users.none')
            : ''}
      </p>
      {list.items.length > 0 && (
        <div class="table-wrap" tabIndex={0} role="region" aria-label={t('admin.users')}>
          <table class="table">
            <thead>
              <tr>
                <th scope="col">{t('users.name')}</th>
                <th scope="col">{t('users.role')}</th>
                <th scope="col">{t('users.status')}</th>
                <th scope="col">{t('users.createdAt')}</th>
                <th scope="col">{t('users.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((u) => (
                <UserRow
                  key={u.id}
                  user={u}
                  onChanged={(changed, message) => {
                    replace(changed);
                    setStatus(message);
                  }}
                  onReset={(link) => {
                    setReset({ user: u, link });
                    focusLater('reset-url');
                  }}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.more && (
        <button type="button" class="button button-secondary more" onClick={list.loadMore}>
          {list.loading ? t('common.loading') : t('users.more')}
        </button>
      )}
    </AdminLayout>
  );
}

function UserRow({
  user,
  onChanged,
  onReset,
}: {
  user: User;
  onChanged: (user: User, message: string) => void;
  onReset: (link: ResetLink) => void;
}) {
  const { t, lang } = useI18n();
  const session = useSession();
  const [role, setRole] = useState<UserRole>(user.role);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setRole(user.role), [user.role]);

  const run = async (work: () => Promise<void>) => {
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (err) {
      setError(errorText(err, t));
      setRole(user.role);
    } finally {
      setBusy(false);
    }
  };

  const patch = (body: Partial<Pick<User, 'role' | 'status'>>, message: string) =>
    run(async () => {
      const changed = await apiFetch<User>(`/users/${user.id}`, { method: 'PATCH', body });
      onChanged(changed, message);
    });

  const issueReset = () =>
    run(async () => {
      onReset(await apiFetch<ResetLink>(`/users/${user.id}/password-reset`, { method: 'POST' }));
    });

  const roleId = `user-role-${user.id}`;
  return (
    <tr>
      <td>
        <a href={`/people/${user.id}`}>{user.display_name}</a>
        {session.user?.id === user.id && <span class="badge badge-accent">{t('common.you')}</span>}
        <br />
        <span class="muted small">{user.email}</span>
      </td>
      <td>
        <label class="visually-hidden" for={roleId}>
          {t('users.roleOf', { name: user.display_name })}
        </label>
        <span class="inline-controls">
          <select id={roleId} value={role} onChange={(e) => setRole(e.currentTarget.value as UserRole)}>
            {USER_ROLES.map((r) => (
              <option key={r} value={r}>
                {t(`userRole.${r}` as const)}
              </option>
            ))}
          </select>
          <button
            type="button"
            class="button button-small"
            aria-label={t('users.changeRoleOf', { name: user.display_name })}
            aria-disabled={role === user.role ? 'true' : undefined}
            onClick={() => {
              if (role !== user.role)
                void patch({ role }, t('users.roleChanged', { name: user.display_name, role: t(`userRole.${role}` as const) }));
            }}
          >
            {t('users.changeRole')}
          </button>
        </span>
      </td>
      <td>
        <span class={`badge badge-${user.status}`}>{t(`userStatus.${user.status}` as const)}</span>
      </td>
      <td>{formatDate(user.created_at, lang)}</td>
      <td>
        <span class="inline-controls">
          {user.status === 'active' ? (
            <button
              type="button"
              class="button button-secondary button-small"
              aria-label={t('users.disableLabel', { name: user.display_name })}
              onClick={() => void patch({ status: 'disabled' }, t('users.disabled', { name: user.display_name }))}
            >
              {t('users.disable')}
            </button>
          ) : (
            <button
              type="button"
              class="button button-secondary button-small"
              aria-label={t('users.enableLabel', { name: user.display_name })}
              onClick={() => void patch({ status: 'active' }, t('users.enabled', { name: user.display_name }))}
            >
              {t('users.enable')}
            </button>
          )}
          {user.status === 'active' && (
            <button
              type="button"
              class="button button-secondary button-small"
              aria-label={t('users.resetLabel', { name: user.display_name })}
              onClick={() => void issueReset()}
            >
              {t('users.reset')}
            </button>
          )}
        </span>
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
      </td>
    </tr>
  );
}

const CREATE_FIELDS = ['email', 'display_name', 'department', 'job_title', 'role', 'locale', 'password'] as const;
type CreateField = (typeof CREATE_FIELDS)[number];

function CreateUser({ onCreated }: { onCreated: (user: User) => void }) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [department, setDepartment] = useState('');
  const [jobTitle, setJobTitle] = useState('');
  const [role, setRole] = useState<UserRole>('employee');
  const [locale, setLocale] = useState<Lang>('en');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const form = useFormErrors<CreateField>('new-user', CREATE_FIELDS);

  const onSubmit = async (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    const errors: Partial<Record<CreateField, string>> = {};
    if (!/^[^@\s]+@[^@\s]+$/.test(email.trim())) errors.email = t(email.trim() ? 'form.emailInvalid' : 'form.required');
    if (name.trim() === '') errors.display_name = t('form.required');
    if (password !== '' && password.length < 10) errors.password = t('error.passwordShort');
    if (form.check(errors, CREATE_FIELDS)) return;
    setBusy(true);
    try {
      const user = await apiFetch<User>('/users', {
        method: 'POST',
        body: {
          email: email.trim(),
          display_name: name.trim(),
          department: department.trim(),
          job_title: jobTitle.trim(),
          role,
          locale,
          ...(password ? { password } : {}),
        },
      });
      form.clear();
      setEmail('');
      setName('');
      setDepartment('');
      setJobTitle('');
      setRole('employee');
      setPassword('');
      onCreated(user);
    } catch (err) {
      form.fail(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <details class="card disclosure" open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>{t('users.create')}</summary>
      <form class="form form-plain" method="post" noValidate onSubmit={onSubmit}>
        <div class="field-row">
          <TextField
            id="new-user-email"
            label={t('users.email')}
            type="email"
            autoComplete="off"
            required
            maxLength={254}
            value={email}
            onValue={setEmail}
            error={form.fieldErrors.email}
          />
          <TextField
            id="new-user-display_name"
            label={t('profile.displayName')}
            autoComplete="off"
            required
            maxLength={100}
            value={name}
            onValue={setName}
            error={form.fieldErrors.display_name}
          />
        </div>
        <div class="field-row">
          <TextField
            id="new-user-department"
            label={t('profile.department')}
            maxLength={100}
            value={department}
            onValue={setDepartment}
            error={form.fieldErrors.department}
          />
          <TextField
            id="new-user-job_title"
            label={t('profile.jobTitle')}
            maxLength={100}
            value={jobTitle}
            onValue={setJobTitle}
            error={form.fieldErrors.job_title}
          />
        </div>
        <div class="field-row">
          <SelectField<UserRole>
            id="new-user-role"
            label={t('users.role')}
            value={role}
            onValue={setRole}
            options={USER_ROLES.map((r) => ({ value: r, label: t(`userRole.${r}` as const) }))}
            error={form.fieldErrors.role}
          />
          <SelectField<Lang>
            id="new-user-locale"
            label={t('profile.locale')}
            value={locale}
            onValue={setLocale}
            options={LANGS.map((code) => ({ value: code, label: LANG_NAMES[code], lang: code }))}
            error={form.fieldErrors.locale}
          />
        </div>
        <TextField
          id="new-user-password"
          label={t('users.password')}
          hint={t('users.passwordHint')}
          type="password"
          autoComplete="new-password"
          value={password}
          onValue={setPassword}
          error={form.fieldErrors.password}
        />
        <FormError message={form.formError} />
        <SubmitButton busy={busy} label={t('users.createSubmit')} />
      </form>
    </details>
  );
}
