import { useEffect, useRef, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { ApiError } from '../api';
import { useI18n, type MessageKey } from '../i18n';
import { navigate, safeNext, useSearch } from '../router';
import { useSession } from '../session';
import { errorText } from '../errors';
import { useTitle } from '../components/views';

type Field = 'email' | 'password';
type Errors = Partial<Record<Field, MessageKey>>;

// Deliberately loose: the server is the judge; this only catches obvious typos.
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+$/;

function validate(email: string, password: string): Errors {
  const errors: Errors = {};
  if (email.trim() === '') errors.email = 'signin.emailRequired';
  else if (!EMAIL_SHAPE.test(email.trim())) errors.email = 'signin.emailInvalid';
  if (password === '') errors.password = 'signin.passwordRequired';
  return errors;
}

/**
 * The sign-in form: POST /api/v1/session, then on to `next` (a path of this site).
 * Field messages are kept as keys so that they follow a language switch.
 */
export function SignInPage() {
  const { t } = useI18n();
  const session = useSession();
  const search = useSearch();
  const next = safeNext(new URLSearchParams(search).get('next'));
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<MessageKey | null>(null);
  const emailRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  useTitle(t('signin.title'));

  // "You have signed out." / "Your session has ended.", once.
  useEffect(() => {
    const flash = session.takeFlash();
    if (flash) setNotice(flash);
  }, []);

  // Already signed in (another tab, or the back button): go on.
  useEffect(() => {
    if (session.status === 'signed-in' && !busy) navigate(next, { replace: true });
  }, [session.status]);

  const onSubmit = async (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    const found = validate(email, password);
    setErrors(found);
    setFailure(null);
    if (found.email) {
      emailRef.current?.focus();
      return;
    }
    if (found.password) {
      passwordRef.current?.focus();
      return;
    }
    setBusy(true);
    try {
      await session.signIn(email.trim(), password);
      navigate(next, { replace: true });
    } catch (err) {
      setBusy(false);
      setFailure(err);
      if (err instanceof ApiError && err.code === 'invalid_credentials') {
        setPassword('');
        passwordRef.current?.focus();
      }
    }
  };

  const describedBy = (field: Field) => (errors[field] ? `signin-${field}-error` : undefined);

  return (
    <section class="page page-narrow" data-page="signin">
      <h1 tabIndex={-1}>{t('signin.title')}</h1>
      {notice && <p class="notice">{t(notice)}</p>}
      <p>{t('signin.intro')}</p>
      <form class="form" method="post" noValidate onSubmit={onSubmit}>
        <div class="field">
          <label for="signin-email">{t('signin.email')}</label>
          <input
            id="signin-email"
            ref={emailRef}
            name="email"
            type="email"
            autoComplete="username"
            inputMode="email"
            spellcheck={false}
            required
            value={email}
            aria-invalid={errors.email ? 'true' : undefined}
            aria-describedby={describedBy('email')}
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
          {errors.email && (
            <p id="signin-email-error" class="field-error">
              {t(errors.email)}
            </p>
          )}
        </div>
        <div class="field">
          <label for="signin-password">{t('signin.password')}</label>
          <input
            id="signin-password"
            ref={passwordRef}
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            aria-invalid={errors.password ? 'true' : undefined}
            aria-describedby={describedBy('password')}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
          {errors.password && (
            <p id="signin-password-error" class="field-error">
              {t(errors.password)}
            </p>
          )}
        </div>
        {failure !== null && (
          <p class="form-error" role="alert">
            {errorText(failure, t)}
          </p>
        )}
        <button type="submit" class="button" aria-disabled={busy ? 'true' : undefined}>
          {busy ? t('signin.busy') : t('signin.submit')}
        </button>
      </form>
      <p class="muted small">{t('signin.forgot')}</p>
    </section>
  );
}
