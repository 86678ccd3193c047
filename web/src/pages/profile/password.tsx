import { useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { apiFetch, setCsrfToken } from '../../api';
import { useI18n, type MessageKey } from '../../i18n';
import { useSession } from '../../session';
import { FormError, NewPasswordFields, Status, SubmitButton, TextField, newPasswordProblem, useFormErrors } from '../../components/forms';

const FIELDS = ['current_password', 'new_password', 'confirm'] as const;
type Field = (typeof FIELDS)[number];

/** POST /api/v1/me/password: every other session ends; this one gets a new CSRF token. */
export function PasswordSection({ onChanged }: { onChanged: () => void }) {
  const { t } = useI18n();
  const { user } = useSession();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<MessageKey | null>(null);
  const form = useFormErrors<Field>('password', FIELDS);

  const onSubmit = async (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    setStatus(null);
    const errors: Partial<Record<Field, string>> = {};
    if (current === '') errors.current_password = t('form.required');
    const problem = newPasswordProblem(next, confirm);
    if (problem) errors[problem.field === 'password' ? 'new_password' : 'confirm'] = t(problem.message);
    if (form.check(errors, FIELDS)) return;
    setBusy(true);
    try {
      const res = await apiFetch<{ csrf_token: string }>('/me/password', {
        method: 'POST',
        body: { current_password: current, new_password: next },
      });
      setCsrfToken(res.csrf_token);
      form.clear();
      setCurrent('');
      setNext('');
      setConfirm('');
      setStatus('password.changed');
      onChanged();
    } catch (err) {
      form.fail(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card" id="password" aria-labelledby="password-heading">
      <h2 id="password-heading">{t('password.title')}</h2>
      <form class="form form-plain" method="post" noValidate onSubmit={onSubmit}>
        {/* For password managers: whose password this is. */}
        <input type="email" name="username" autoComplete="username" value={user?.email ?? ''} readOnly hidden />
        <TextField
          id="password-current_password"
          label={t('password.current')}
          type="password"
          autoComplete="current-password"
          required
          value={current}
          onValue={setCurrent}
          error={form.fieldErrors.current_password}
        />
        <div class="field-row">
          <NewPasswordFields
            ids={{ password: 'password-new_password', confirm: 'password-confirm' }}
            value={next}
            onValue={setNext}
            confirm={confirm}
            onConfirm={setConfirm}
            errors={{ password: form.fieldErrors.new_password, confirm: form.fieldErrors.confirm }}
          />
        </div>
        <FormError message={form.formError} />
        <SubmitButton busy={busy} label={t('password.submit')} />
        <Status message={status ? t(status) : null} />
      </form>
    </section>
  );
}
