import { useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { apiFetch } from '../../api';
import { useI18n } from '../../i18n';
import { errorText } from '../../errors';
import { formatDateTime } from '../../format';
import { useApi } from '../../hooks';
import { SCOPES, type ApiToken, type NewApiToken, type Page, type Scope } from '../../types';
import { FormError, Status, SubmitButton, TextField, focusLater, useFormErrors } from '../../components/forms';
import { LoadError, Loading, gateView, useTitle } from '../../components/views';
import { AdminLayout } from './layout';
import { CopyField } from './copy';

const FIELDS = ['name', 'scopes'] as const;
type Field = (typeof FIELDS)[number];

/** /admin/tokens: API tokens; create one (its secret is shown once), revoke one. */
export function AdminTokensPage() {
  const { t, lang } = useI18n();
  const list = useApi<Page<ApiToken>>('/tokens');
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['read']);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<NewApiToken | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [rowError, setRowError] = useState<{ id: number; text: string } | null>(null);
  const form = useFormErrors<Field>('token', FIELDS);
  const gate = gateView(list.error);
  useTitle(gate ? false : t('admin.tokens'));
  if (gate) return gate;

  const toggle = (scope: Scope, on: boolean) =>
    setScopes((current) => (on ? [...current.filter((s) => s !== scope), scope] : current.filter((s) => s !== scope)));

  const onSubmit = async (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    const errors: Partial<Record<Field, string>> = {};
    if (name.trim() === '') errors.name = t('form.required');
    if (scopes.length === 0) errors.scopes = t('tokens.scopesRequired');
    if (form.check(errors, FIELDS)) return;
    setBusy(true);
    setStatus(null);
    try {
      const token = await apiFetch<NewApiToken>('/tokens', { method: 'POST', body: { name: name.trim(), scopes } });
      form.clear();
      setName('');
      setScopes(['read']);
      setCreated(token);
      list.reload();
      focusLater('token-secret');
    } catch (err) {
      form.fail(err);
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (token: ApiToken) => {
    setRowError(null);
    setStatus(null);
    try {
      await apiFetch(`/tokens/${token.id}`, { method: 'DELETE' });
      setStatus(t('tokens.revoked', { name: token.name }));
      list.reload();
    } catch (err) {
      setRowError({ id: token.id, text: errorText(err, t) });
    }
  };

  const tokens = list.data?.items ?? [];

  return (
    <AdminLayout title={t('admin.tokens')} page="admin-tokens">
      <p class="lead">{t('tokens.intro')}</p>
      {created && (
        <div class="card reveal" role="region" aria-labelledby="token-created-heading">
          <h2 id="token-created-heading">{t('tokens.createdTitle', { name: created.name })}</h2>
          <p>{t('tokens.once')}</p>
          <CopyField id="token-secret" label={t('tokens.secret')} value={created.token} />
          <button type="button" class="button button-secondary" onClick={() => setCreated(null)}>
            {t('common.done')}
          </button>
        </div>
      )}
      <section class="card" aria-labelledby="token-new-heading">
        <h2 id="token-new-heading">{t('tokens.create')}</h2>
        <form class="form form-plain" method="post" noValidate onSubmit={onSubmit}>
          <TextField
            id="token-name"
            label={t('tokens.name')}
            hint={t('tokens.nameHint')}
            required
            maxLength={100}
            value={name}
            onValue={setName}
            error={form.fieldErrors.name}
          />
          <fieldset class="choices" id="token-scopes" tabIndex={-1} aria-describedby={form.fieldErrors.scopes ? 'token-scopes-error' : undefined}>
            <legend>{t('tokens.scopes')}</legend>
            {SCOPES.map((scope) => (
              <div key={scope} class="choice">
                <input
                  type="checkbox"
                  id={`token-scope-${scope}`}
                  checked={scopes.includes(scope)}
                  aria-describedby={`token-scope-${scope}-hint`}
                  onChange={(e) => toggle(scope, e.currentTarget.checked)}
                />
                <label for={`token-scope-${scope}`}>
                  <code>{scope}</code>
                </label>
                <p id={`token-scope-${scope}-hint`} class="field-hint">
                  {t(`scope.${scope === 'questions:write' ? 'questionsWrite' : scope}` as const)}
                </p>
              </div>
            ))}
            {form.fieldErrors.scopes && (
              <p id="token-scopes-error" class="field-error">
                {form.fieldErrors.scopes}
              </p>
            )}
          </fieldset>
          <FormError message={form.formError} />
          <SubmitButton busy={busy} label={t('tokens.submit')} />
        </form>
      </section>

      <Status message={status} />
      <h2>{t('tokens.list')}</h2>
      {list.error !== null ? (
        <LoadError error={list.error} onRetry={list.reload} />
      ) : !list.data ? (
        <Loading />
      ) : tokens.length === 0 ? (
        <p>{t('tokens.none')}</p>
      ) : (
        <div class="table-wrap" tabIndex={0} role="region" aria-label={t('tokens.list')}>
          <table class="table">
            <thead>
              <tr>
                <th scope="col">{t('tokens.name')}</th>
                <th scope="col">{t('tokens.scopes')}</th>
                <th scope="col">{t('tokens.createdBy')}</th>
                <th scope="col">{t('tokens.lastUsed')}</th>
                <th scope="col">{t('tokens.state')}</th>
              </tr>
            </thead>
            <tbody>
              {tokens.map((token) => (
                <tr key={token.id}>
                  <td>{token.name}</td>
                  <td>
                    {token.scopes.map((s) => (
                      <code key={s} class="scope">
                        {s}
                      </code>
                    ))}
                  </td>
                  <td>
                    {token.created_by_name}
                    <br />
                    <span class="muted small">{formatDateTime(token.created_at, lang)}</span>
                  </td>
                  <td>{token.last_used_at ? formatDateTime(token.last_used_at, lang) : t('tokens.never')}</td>
                  <td>
                    {token.revoked_at ? (
                      <span class="badge badge-disabled">
                        {t('tokens.revokedOn', { date: formatDateTime(token.revoked_at, lang) })}
                      </span>
                    ) : (
                      <button
                        type="button"
                        class="button button-secondary button-small"
                        aria-label={t('tokens.revokeLabel', { name: token.name })}
                        onClick={() => void revoke(token)}
                      >
                        {t('tokens.revoke')}
                      </button>
                    )}
                    {rowError?.id === token.id && (
                      <p class="form-error" role="alert">
                        {rowError.text}
                      </p>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </AdminLayout>
  );
}
