import { useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { ApiError, apiFetch } from '../api';
import { useI18n } from '../i18n';
import { useSearch } from '../router';
import { FormError, NewPasswordFields, SubmitButton, newPasswordProblem, useFormErrors } from '../components/forms';
import { useTitle } from '../components/views';

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const FIELDS = ['password', 'confirm'] as const;
type Field = (typeof FIELDS)[number];

/** /reset-password?token=...: sets a new password with a one-time link from an admin. */
export function ResetPasswordPage() {
  const { t } = useI18n();
  const token = new URLSearchParams(useSearch()).get('token') ?? '';
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const [badLink, setBadLink] = useState(!TOKEN_SHAPE.test(token));
  const form = useFormErrors<Field>('reset', FIELDS);
  useTitle(t('reset.title'));

  const onSubmit = async (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    const errors: Partial<Record<Field, string>> = {};
    const problem = newPasswordProblem(password, confirm);
    if (problem) errors[problem.field] = t(problem.message);
    if (form.check(errors, FIELDS)) return;
    setBusy(true);
    try {
      await apiFetch('/password-reset', { method: 'POST', body: { token, password } });
      setDone(true);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'invalid_token') setBadLink(true);
      else form.fail(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="page page-narrow" data-page="reset-password">
      <h1 tabIndex={-1}>{t('reset.title')}</h1>
      {done ? (
        <div class="notice" role="status">
          <p>{t('reset.done')}</p>
          <p>
            <a href="/signin">{t('reset.signIn')}</a>
          </p>
        </div>
      ) : badLink ? (
        <div class="alert" role="alert">
          <p>{t('reset.invalidToken')}</p>
        </div>
      ) : (
        <>
          <p>{t('reset.intro')}</p>
          <form class="form" method="post" noValidate onSubmit={onSubmit}>
            <NewPasswordFields
              ids={{ password: 'reset-password', confirm: 'reset-confirm' }}
              value={password}
              onValue={setPassword}
              confirm={confirm}
              onConfirm={setConfirm}
              errors={form.fieldErrors}
            />
            <FormError message={form.formError} />
            <SubmitButton busy={busy} label={t('reset.submit')} />
          </form>
        </>
      )}
    </section>
  );
}
