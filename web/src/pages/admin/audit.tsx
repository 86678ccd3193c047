import { useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { query } from '../../api';
import { useI18n } from '../../i18n';
import { formatDateTime } from '../../format';
import { usePagedList } from '../../hooks';
import type { AuditEntry } from '../../types';
import { SelectField, TextField, focusLater, useFormErrors } from '../../components/forms';
import { LoadError, gateView, useTitle } from '../../components/views';
import { AdminLayout } from './layout';

// The audited actions (docs/openapi.yaml, GET /api/v1/audit), offered as suggestions; a
// family prefix such as "login" matches all of its actions.
const ACTIONS = [
  'login', 'login.succeeded', 'login.failed', 'login.rate_limited', 'logout', 'session.revoked',
  'password', 'password.changed', 'password.change_failed', 'password.reset_issued', 'password.reset_used',
  'access', 'access.denied', 'access.csrf_failed', 'profile', 'profile.updated', 'profile.expertise_changed',
  'user', 'user.created', 'user.updated', 'user.role_changed', 'user.disabled', 'user.enabled',
  'token', 'token.created', 'token.revoked', 'community.created', 'membership', 'membership.joined', 'membership.requested',
  'membership.left', 'membership.invited', 'membership.approved', 'membership.role_changed', 'membership.removed',
];
const OBJECT_TYPES = ['', 'user', 'session', 'token', 'community', 'route'] as const;

interface Filters {
  action: string;
  actor_id: string;
  object_type: string;
  object_id: string;
}
const EMPTY: Filters = { action: '', actor_id: '', object_type: '', object_id: '' };

/** /admin/audit: the audit log, newest first, filtered by action, actor and object. */
export function AdminAuditPage() {
  const { t, lang } = useI18n();
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const list = usePagedList<AuditEntry>(`/audit${query({ ...filters, limit: 50 })}`);
  const form = useFormErrors<keyof Filters>('audit', ['action', 'actor_id', 'object_type', 'object_id']);
  const gate = gateView(list.error);
  useTitle(gate ? false : t('admin.audit'));
  if (gate) return gate;

  const apply = (next: Filters) => {
    setDraft(next);
    setFilters(next);
  };

  const onSubmit = (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const next = {
      action: draft.action.trim(),
      actor_id: draft.actor_id.trim(),
      object_type: draft.object_type,
      object_id: draft.object_id.trim(),
    };
    if (form.check(next.actor_id && !/^[1-9][0-9]{0,17}$/.test(next.actor_id) ? { actor_id: t('audit.actorInvalid') } : {}, ['actor_id'])) return;
    if (next.action && !/^[a-z_.]{1,64}$/.test(next.action)) {
      form.check({ action: t('audit.actionInvalid') }, ['action']);
      return;
    }
    apply(next);
  };

  const filtered = Object.values(filters).some(Boolean);

  return (
    <AdminLayout title={t('admin.audit')} page="admin-audit">
      <form class="form search-form" role="search" aria-label={t('audit.searchLabel')} onSubmit={onSubmit} noValidate>
        <div class="field-row">
          <TextField
            id="audit-action"
            label={t('audit.action')}
            hint={t('audit.actionHint')}
            list="audit-actions"
            spellcheck={false}
            autoCapitalize="none"
            value={draft.action}
            onValue={(action) => setDraft({ ...draft, action })}
            error={form.fieldErrors.action}
          />
          <datalist id="audit-actions">
            {ACTIONS.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
          <TextField
            id="audit-actor_id"
            label={t('audit.actor')}
            hint={t('audit.actorHint')}
            inputMode="numeric"
            value={draft.actor_id}
            onValue={(actor_id) => setDraft({ ...draft, actor_id })}
            error={form.fieldErrors.actor_id}
          />
        </div>
        <div class="field-row">
          <SelectField<string>
            id="audit-object_type"
            label={t('audit.objectType')}
            value={draft.object_type}
            onValue={(object_type) => setDraft({ ...draft, object_type })}
            options={OBJECT_TYPES.map((o) => ({ value: o, label: o ? t(`objectType.${o}` as const) : t('audit.anyObject') }))}
          />
          <TextField
            id="audit-object_id"
            label={t('audit.objectId')}
            maxLength={64}
            value={draft.object_id}
            onValue={(object_id) => setDraft({ ...draft, object_id })}
          />
        </div>
        <div class="actions">
          <button type="submit" class="button">
            {t('audit.filter')}
          </button>
          {filtered && (
            <button type="button" class="button button-secondary" onClick={() => apply(EMPTY)}>
              {t('audit.clear')}
            </button>
          )}
        </div>
      </form>

      {list.error !== null && <LoadError error={list.error} onRetry={list.reload} />}
      <p class="result-count" role="status">
        {list.loading && list.items.length === 0
          ? t('common.loading')
          : list.items.length === 0 && !list.error
            ? t('audit.none')
            : ''}
      </p>
      {list.items.length > 0 && (
        <div class="table-wrap" tabIndex={0} role="region" aria-label={t('admin.audit')}>
          <table class="table audit-table">
            <thead>
              <tr>
                <th scope="col">{t('audit.at')}</th>
                <th scope="col">{t('audit.actor')}</th>
                <th scope="col">{t('audit.action')}</th>
                <th scope="col">{t('audit.object')}</th>
                <th scope="col">{t('audit.ip')}</th>
                <th scope="col">{t('audit.details')}</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((e) => (
                <tr key={e.id}>
                  <td class="nowrap">{formatDateTime(e.at, lang)}</td>
                  <td>
                    {e.actor_user_id !== null ? (
                      <button
                        type="button"
                        class="link-button"
                        aria-label={t('audit.byActor', { name: e.actor_name ?? String(e.actor_user_id) })}
                        onClick={() => {
                          apply({ ...filters, actor_id: String(e.actor_user_id) });
                          focusLater('audit-actor_id');
                        }}
                      >
                        {e.actor_name ?? `#${e.actor_user_id}`}
                      </button>
                    ) : e.actor_token_id !== null ? (
                      t('audit.token', { id: e.actor_token_id })
                    ) : (
                      <span class="muted">{t('audit.nobody')}</span>
                    )}
                  </td>
                  <td>
                    <code>{e.action}</code>
                  </td>
                  <td>{e.object_type ? `${e.object_type}${e.object_id ? ` ${e.object_id}` : ''}` : '—'}</td>
                  <td>{e.ip}</td>
                  <td>
                    {Object.keys(e.details).length > 0 ? <code class="details">{JSON.stringify(e.details)}</code> : '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.more && (
        <button type="button" class="button button-secondary more" onClick={list.loadMore}>
          {list.loading ? t('common.loading') : t('audit.more')}
        </button>
      )}
    </AdminLayout>
  );
}
