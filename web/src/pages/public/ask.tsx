import { useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { ApiError, apiFetch } from '../../api';
import { useI18n } from '../../i18n';
import { useApi } from '../../hooks';
import { FormError, SelectField, SubmitButton, TextAreaField, TextField, focusLater, useFormErrors } from '../../components/forms';
import { LoadError, Loading, useTitle } from '../../components/views';
import { CopyField } from '../admin/copy';
import { PublicMissing } from './missing';

interface AskChannel {
  slug: string;
  name: string;
  language: string;
  community_name: string;
}

const FIELDS = ['title', 'body', 'name', 'email', 'language'] as const;
type Field = (typeof FIELDS)[number];
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+$/;

/** Where a follow link leads, as a path of this site. */
export function followPath(answer: { follow_token?: string; follow_url?: string }): string {
  if (answer.follow_url) {
    try {
      const u = new URL(answer.follow_url, window.location.origin);
      if (u.origin === window.location.origin) return u.pathname;
    } catch {
      // Fall back to the token.
    }
  }
  return `/follow/${answer.follow_token ?? ''}`;
}

/** /ask/:slug: the public form of a web_form channel. No account needed. */
export function AskPage({ slug }: { slug: string }) {
  const { t } = useI18n();
  const form = useApi<{ channel: AskChannel }>(`/ask/${encodeURIComponent(slug)}`);
  const missing = form.error instanceof ApiError && form.error.status === 404;
  const channel = form.data?.channel;
  useTitle(missing ? false : (channel?.name ?? t('ask.title')));
  if (missing) return <PublicMissing message={t('ask.missing')} />;

  return (
    <section class="page page-medium" data-page="ask">
      <h1 tabIndex={-1}>{channel?.name ?? t('ask.title')}</h1>
      {form.error !== null ? (
        <LoadError error={form.error} onRetry={form.reload} />
      ) : !channel ? (
        <Loading />
      ) : (
        <AskForm slug={slug} channel={channel} />
      )}
    </section>
  );
}

function AskForm({ slug, channel }: { slug: string; channel: AskChannel }) {
  const { t } = useI18n();
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [language, setLanguage] = useState(channel.language === 'fr' ? 'fr' : 'en');
  // The honeypot: people never see it; a robot that fills it is answered as usual and ignored.
  const [website, setWebsite] = useState('');
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState<string | null>(null);
  const errors = useFormErrors<Field>('ask', FIELDS);

  const onSubmit = async (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    const found: Partial<Record<Field, string>> = {};
    if (title.trim() === '') found.title = t('form.required');
    if (body.trim() === '') found.body = t('form.required');
    if (email.trim() !== '' && !EMAIL_SHAPE.test(email.trim())) found.email = t('form.emailInvalid');
    if (errors.check(found, FIELDS)) return;
    setBusy(true);
    try {
      const answer = await apiFetch<{ follow_token?: string; follow_url?: string }>(`/ask/${encodeURIComponent(slug)}`, {
        method: 'POST',
        body: {
          title: title.trim(),
          body: body.trim(),
          ...(name.trim() ? { name: name.trim() } : {}),
          ...(email.trim() ? { email: email.trim() } : {}),
          language,
          website,
        },
      });
      errors.clear();
      setSent(followPath(answer));
      focusLater('ask-sent-heading');
    } catch (err) {
      errors.fail(err);
    } finally {
      setBusy(false);
    }
  };

  if (sent) {
    const link = new URL(sent, window.location.origin).href;
    return (
      <div class="card reveal" role="region" aria-labelledby="ask-sent-heading">
        <h2 id="ask-sent-heading" tabIndex={-1}>
          {t('ask.sentTitle')}
        </h2>
        <p>{t('ask.sentBody')}</p>
        <p>
          <a href={sent}>{t('ask.follow')}</a>
        </p>
        <CopyField id="ask-follow-link" label={t('ask.followLink')} value={link} />
      </div>
    );
  }

  return (
    <>
      <p class="lead">{t('ask.intro', { community: channel.community_name })}</p>
      <form class="form" method="post" noValidate onSubmit={onSubmit}>
        <TextField
          id="ask-title"
          label={t('ask.questionTitle')}
          required
          maxLength={300}
          value={title}
          onValue={setTitle}
          error={errors.fieldErrors.title}
        />
        <TextAreaField
          id="ask-body"
          label={t('ask.body')}
          hint={t('ask.bodyHint')}
          required
          rows={6}
          maxLength={20000}
          value={body}
          onValue={setBody}
          error={errors.fieldErrors.body}
        />
        <div class="field-row">
          <TextField
            id="ask-name"
            label={t('ask.name')}
            autoComplete="name"
            maxLength={200}
            value={name}
            onValue={setName}
            error={errors.fieldErrors.name}
          />
          <TextField
            id="ask-email"
            label={t('ask.email')}
            hint={t('ask.emailHint')}
            type="email"
            autoComplete="email"
            maxLength={254}
            value={email}
            onValue={setEmail}
            error={errors.fieldErrors.email}
          />
        </div>
        <SelectField<string>
          id="ask-language"
          label={t('ask.language')}
          value={language}
          onValue={setLanguage}
          options={[
            { value: 'en', label: 'English', lang: 'en' },
            { value: 'fr', label: 'Français', lang: 'fr' },
          ]}
          error={errors.fieldErrors.language}
        />
        <div class="visually-hidden" aria-hidden="true">
          <label class="visually-hidden" for="ask-website">
            {t('ask.website')}
          </label>
          <input
            id="ask-website"
            class="visually-hidden"
            name="website"
            type="text"
            tabIndex={-1}
            autoComplete="off"
            value={website}
            onInput={(e) => setWebsite(e.currentTarget.value)}
          />
        </div>
        <FormError message={errors.formError} />
        <SubmitButton busy={busy} label={t('ask.submit')} />
        <p class="muted small">{t('ask.privacy')}</p>
      </form>
    </>
  );
}
