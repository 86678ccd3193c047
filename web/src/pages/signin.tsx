import { useRef, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { useI18n, type MessageKey } from '../i18n';

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
 * The sign-in form. It does not talk to the server yet (POST /api/v1/session comes
 * next); a valid submission only says that sign-in is not available.
 * Messages are kept as keys so they follow a language switch.
 */
export function SignInPage() {
  const { t } = useI18n();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const [status, setStatus] = useState<MessageKey | null>(null);
  const emailRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);

  const onSubmit = (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const found = validate(email, password);
    setErrors(found);
    if (found.email) emailRef.current?.focus();
    else if (found.password) passwordRef.current?.focus();
    setStatus(found.email || found.password ? null : 'signin.unavailable');
  };

  const describedBy = (field: Field) => (errors[field] ? `signin-${field}-error` : undefined);

  return (
    <section class="page page-narrow" data-page="signin">
      <h1 tabIndex={-1}>{t('signin.title')}</h1>
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
        <button type="submit" class="button">
          {t('signin.submit')}
        </button>
        <p class="status" role="status">
          {status ? t(status) : ''}
        </p>
      </form>
    </section>
  );
}
