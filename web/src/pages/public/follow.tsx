import { useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { ApiError, apiFetch } from '../../api';
import { useI18n } from '../../i18n';
import { formatDateTime } from '../../format';
import { useApi } from '../../hooks';
import type { FollowAnswer } from '../../types';
import { FormError, Status, SubmitButton, TextAreaField, useFormErrors } from '../../components/forms';
import { LoadError, Loading, useTitle } from '../../components/views';
import { PublicMissing } from './missing';

/** /follow/:token: the customer's view of their question, the conversation, a reply box. */
export function FollowPage({ token }: { token: string }) {
  const { t, lang } = useI18n();
  const follow = useApi<FollowAnswer>(`/follow/${encodeURIComponent(token)}`);
  const missing = follow.error instanceof ApiError && follow.error.status === 404;
  const q = follow.data?.question;
  useTitle(missing ? false : (q?.title ?? t('follow.title')));
  if (missing) return <PublicMissing message={t('follow.missing')} />;

  return (
    <section class="page page-medium" data-page="follow">
      <p class="breadcrumb">{t('follow.title')}</p>
      <h1 tabIndex={-1}>{q?.title ?? t('follow.title')}</h1>
      {follow.error !== null && !follow.data ? (
        <LoadError error={follow.error} onRetry={follow.reload} />
      ) : !q ? (
        <Loading />
      ) : (
        <>
          <p class="meta">
            <span class={`badge badge-cs-${q.status}`}>{t(`customerStatus.${q.status}` as const)}</span>
            <span class="muted small">{t('follow.askedOn', { date: formatDateTime(q.created_at, lang) })}</span>
          </p>
          <p class="muted">{t(`customerStatus.${q.status}Hint` as 'customerStatus.receivedHint')}</p>
          <section class="card" aria-labelledby="follow-question-heading">
            <h2 id="follow-question-heading">{t('follow.yourQuestion')}</h2>
            <p class="preserve-lines" lang={q.language}>
              {q.body}
            </p>
          </section>
          <section class="card" aria-labelledby="follow-conversation-heading">
            <h2 id="follow-conversation-heading">{t('follow.conversation')}</h2>
            {(follow.data?.messages ?? []).length === 0 ? (
              <p class="muted">{t('follow.noMessages')}</p>
            ) : (
              <ol class="messages" aria-labelledby="follow-conversation-heading">
                {follow.data!.messages.map((m) => (
                  <li key={m.id} class={`message message-${m.author === 'customer' ? 'customer' : 'company'}`}>
                    <p class="message-head">
                      <strong>{m.author === 'customer' ? t('follow.you') : t('follow.company')}</strong>{' '}
                      <span class="muted small">{formatDateTime(m.created_at, lang)}</span>
                    </p>
                    <p class="preserve-lines">{m.body}</p>
                  </li>
                ))}
              </ol>
            )}
          </section>
          {q.status !== 'closed' && <Reply token={token} onSent={follow.reload} />}
        </>
      )}
    </section>
  );
}

function Reply({ token, onSent }: { token: string; onSent: () => void }) {
  const { t } = useI18n();
  const [body, setBody] = useState('');
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const form = useFormErrors<'body'>('follow', ['body']);

  const onSubmit = async (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    setStatus(null);
    if (form.check(body.trim() === '' ? { body: t('form.required') } : {}, ['body'])) return;
    setBusy(true);
    try {
      await apiFetch(`/follow/${encodeURIComponent(token)}/messages`, { method: 'POST', body: { body: body.trim() } });
      form.clear();
      setBody('');
      setStatus(t('follow.sent'));
      onSent();
    } catch (err) {
      form.fail(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card" aria-labelledby="follow-reply-heading">
      <h2 id="follow-reply-heading">{t('follow.reply')}</h2>
      <form class="form form-plain" method="post" noValidate onSubmit={onSubmit}>
        <TextAreaField
          id="follow-body"
          label={t('follow.message')}
          rows={4}
          maxLength={20000}
          value={body}
          onValue={setBody}
          error={form.fieldErrors.body}
        />
        <FormError message={form.formError} />
        <SubmitButton busy={busy} label={t('follow.submit')} />
        <Status message={status} />
      </form>
    </section>
  );
}
