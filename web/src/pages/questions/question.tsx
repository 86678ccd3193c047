import { useEffect, useRef, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { ApiError, apiFetch } from '../../api';
import { navigate } from '../../router';
import { useI18n, type I18n } from '../../i18n';
import { errorText } from '../../errors';
import { formatDateTime, formatSigned, languageName } from '../../format';
import { useApi } from '../../hooks';
import { useLiveEvents } from '../../events';
import {
  listOf,
  type PersonRef,
  type QuestionComment,
  type QuestionDetail,
  type QuestionListItem,
  type RoutingDecision,
  type TimelineEvent,
} from '../../types';
import { TagChips } from '../../components/chips';
import { FormError, Status, SubmitButton, TextAreaField, focusLater, useFormErrors } from '../../components/forms';
import { PersonPicker } from '../../components/personpicker';
import { LoadError, Loading, gateView, useTitle } from '../../components/views';
import { CrisisBadge, Deadline, PersonLink, StatusBadge, customerText, useNow } from './common';
import { AssignPanel } from './assign';
import { setInboxFlash } from './inbox';

type T = I18n['t'];

/** /questions/:id: the question, the customer's messages, why it was routed, the internal thread. */
export function QuestionPage({ id }: { id: string }) {
  const { t, lang } = useI18n();
  const question = useApi<QuestionDetail>(`/questions/${id}`);
  const comments = useApi<unknown>(`/questions/${id}/comments?limit=200`);
  const [status, setStatus] = useState<string | null>(null);
  const now = useNow();
  const q = question.data;
  // Once shown, a question that becomes out of reach (declined, reassigned) stays on screen
  // with a notice rather than turning into the not-found page.
  const gate = q ? null : gateView(question.error, t('question.missing'));
  const gone = q !== undefined && question.error instanceof ApiError && question.error.status === 404;
  useTitle(gate ? false : (q?.title ?? t('question.title')));

  // Live: what others do to this question shows without a reload.
  useLiveEvents((event) => {
    if (String(event.question_id) !== id) return;
    question.reload();
    if (event.kind === 'question.comment' || event.kind === 'question.mentioned') comments.reload();
  });

  if (gate) return gate;

  const changed = (message: string) => {
    setStatus(message);
    question.reload();
  };

  return (
    <section class="page page-wide question-page" data-page="question">
      <p class="breadcrumb">
        <a href="/questions">{t('question.back')}</a>
      </p>
      <h1 tabIndex={-1}>{q?.title ?? t('question.title')}</h1>
      {question.error && !q ? (
        <LoadError error={question.error} onRetry={question.reload} />
      ) : !q ? (
        <Loading />
      ) : (
        <>
          <p class="meta">
            <StatusBadge status={q.status} />
            {q.crisis && <CrisisBadge />}
            <Deadline question={q} now={now} />
          </p>
          <Status message={status} />
          {gone ? (
            <p class="notice" role="alert">
              {t('question.gone')} <a href="/questions">{t('question.back')}</a>
            </p>
          ) : (
            question.error !== null && <LoadError error={question.error} onRetry={question.reload} />
          )}
          <div class="question-layout">
            <div class="question-main">
              <section class="card" aria-labelledby="q-body-heading">
                <h2 id="q-body-heading">{t('question.asked')}</h2>
                <p class="preserve-lines question-body" lang={q.language}>
                  {q.body}
                </p>
                {q.url && (
                  <p class="small">
                    <a href={q.url} rel="external noopener noreferrer" target="_blank">
                      {t('question.sourceLink')}
                    </a>
                  </p>
                )}
                <TagChips tags={q.tags ?? []} label={t('question.tags')} />
              </section>
              {!gone && (
                <Actions
                  question={q}
                  onChanged={changed}
                  onLeave={(message) => {
                    setInboxFlash(message);
                    navigate('/questions');
                  }}
                />
              )}
              <Conversation question={q} />
              <Thread id={id} comments={listOf<QuestionComment>(comments.data, 'comments')} error={comments.error} onPosted={comments.reload} />
              <Similar id={id} />
            </div>
            <aside class="question-side" aria-label={t('question.details')}>
              <section class="card">
                <h2>{t('question.details')}</h2>
                <dl class="facts facts-stacked">
                  <dt>{t('question.customer')}</dt>
                  <dd>{customerText(q.customer, t)}</dd>
                  {q.community && (
                    <>
                      <dt>{t('question.community')}</dt>
                      <dd>
                        <a href={`/communities/${q.community.id}`}>{q.community.name}</a>
                      </dd>
                    </>
                  )}
                  {q.channel && (
                    <>
                      <dt>{t('question.channel')}</dt>
                      <dd>{q.channel.name}</dd>
                    </>
                  )}
                  {q.language && (
                    <>
                      <dt>{t('question.language')}</dt>
                      <dd>{languageName(q.language, lang)}</dd>
                    </>
                  )}
                  <dt>{t('question.deadline')}</dt>
                  <dd>
                    <Deadline question={q} now={now} />
                    {q.sla_due_at && <span class="muted small block">{formatDateTime(q.sla_due_at, lang)}</span>}
                  </dd>
                  <dt>{t('question.escalation')}</dt>
                  <dd>{t(`escalation.${Math.min(3, Math.max(0, q.escalation_level ?? 0))}` as 'escalation.0')}</dd>
                  <dt>{t('question.assignee')}</dt>
                  <dd><PersonLink person={q.assignee} /></dd>
                  <dt>{t('question.claimedBy')}</dt>
                  <dd><PersonLink person={q.claimed_by} /></dd>
                  <dt>{t('question.primary')}</dt>
                  <dd><PersonLink person={q.primary_expert} /></dd>
                  <dt>{t('question.backup')}</dt>
                  <dd><PersonLink person={q.backup_expert} /></dd>
                  <dt>{t('question.received')}</dt>
                  <dd>{formatDateTime(q.created_at, lang)}</dd>
                </dl>
              </section>
              {q.can?.assign && (
                <section class="card" aria-labelledby="q-assign-heading">
                  <h2 id="q-assign-heading">{t('question.reassign')}</h2>
                  <AssignPanel questionId={q.id} communityId={q.community?.id} title={q.title} onDone={changed} />
                </section>
              )}
              <Routing routing={q.routing ?? []} />
              <Timeline events={q.timeline ?? []} />
            </aside>
          </div>
        </>
      )}
    </section>
  );
}

/** Claim, unclaim, decline (with a reason), ask the customer for details. */
function Actions({
  question: q,
  onChanged,
  onLeave,
}: {
  question: QuestionDetail;
  onChanged: (message: string) => void;
  /** After a decline the question is someone else's: back to the inbox. */
  onLeave: (message: string) => void;
}) {
  const { t } = useI18n();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const can = q.can ?? { claim: false, unclaim: false, decline: false, assign: false, message: false };

  /** Runs an action; resolves with null when done, or with what went wrong (also shown here unless `quiet`). */
  const run = async (path: string, body: unknown, message: string, quiet = false): Promise<string | null> => {
    if (busy) return t('common.working');
    setBusy(true);
    setError(null);
    try {
      await apiFetch(`/questions/${q.id}/${path}`, { method: 'POST', ...(body === undefined ? {} : { body }) });
      if (path === 'decline') onLeave(message);
      else onChanged(message);
      return null;
    } catch (err) {
      const text = errorText(err, t);
      if (!quiet) setError(text);
      return text;
    } finally {
      setBusy(false);
    }
  };

  if (!can.claim && !can.unclaim && !can.decline && !can.message) return null;

  return (
    <section class="card" aria-labelledby="q-actions-heading">
      <h2 id="q-actions-heading">{t('question.actions')}</h2>
      <div class="actions">
        {can.claim && (
          <button type="button" class="button" onClick={() => void run('claim', undefined, t('question.claimed'))}>
            {t('question.claim')}
          </button>
        )}
        {can.unclaim && (
          <button type="button" class="button button-secondary" onClick={() => void run('unclaim', undefined, t('question.unclaimed'))}>
            {t('question.unclaim')}
          </button>
        )}
        {can.decline && <DeclineDialog onDecline={(reason) => run('decline', { reason }, t('question.declined'), true)} />}
      </div>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {can.message && <RequestDetails questionId={q.id} onSent={onChanged} />}
    </section>
  );
}

/** "Decline" opens a modal dialog that asks why; the reason is required. */
function DeclineDialog({ onDecline }: { onDecline: (reason: string) => Promise<string | null> }) {
  const { t } = useI18n();
  const dialog = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const open = () => {
    setError(undefined);
    setFailure(null);
    dialog.current?.showModal();
    focusLater('decline-reason');
  };
  const close = () => dialog.current?.close();

  const onSubmit = async (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    if (reason.trim() === '') {
      setError(t('decline.reasonRequired'));
      focusLater('decline-reason');
      return;
    }
    setBusy(true);
    setError(undefined);
    const problem = await onDecline(reason.trim());
    setBusy(false);
    setFailure(problem);
    if (problem === null) {
      setReason('');
      close();
    }
  };

  return (
    <>
      <button type="button" class="button button-secondary" id="decline-open" onClick={open}>
        {t('question.decline')}
      </button>
      <dialog ref={dialog} class="dialog" aria-labelledby="decline-heading" onClose={() => focusLater('decline-open')}>
        <form class="form form-plain" method="dialog" noValidate onSubmit={onSubmit}>
          <h2 id="decline-heading">{t('decline.title')}</h2>
          <p class="muted">{t('decline.intro')}</p>
          <TextAreaField
            id="decline-reason"
            label={t('decline.reason')}
            rows={3}
            maxLength={500}
            required
            value={reason}
            onValue={setReason}
            error={error}
          />
          <FormError message={failure} />
          <div class="actions">
            <SubmitButton busy={busy} label={t('decline.submit')} />
            <button type="button" class="button button-secondary" onClick={close}>
              {t('common.cancel')}
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}

/** A request for details, sent to the customer; waiting for them pauses the SLA. */
function RequestDetails({ questionId, onSent }: { questionId: number; onSent: (message: string) => void }) {
  const { t } = useI18n();
  const [body, setBody] = useState('');
  const [wait, setWait] = useState(true);
  const [busy, setBusy] = useState(false);
  const form = useFormErrors<'body'>('details', ['body']);

  const onSubmit = async (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    if (form.check(body.trim() === '' ? { body: t('form.required') } : {}, ['body'])) return;
    setBusy(true);
    try {
      await apiFetch(`/questions/${questionId}/messages`, {
        method: 'POST',
        body: { body: body.trim(), wait_for_customer: wait },
      });
      form.clear();
      setBody('');
      onSent(wait ? t('details.sentWaiting') : t('details.sent'));
    } catch (err) {
      form.fail(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="form form-plain" method="post" noValidate onSubmit={onSubmit}>
      <h3>{t('details.title')}</h3>
      <TextAreaField
        id="details-body"
        label={t('details.body')}
        hint={t('details.hint')}
        rows={3}
        maxLength={20000}
        value={body}
        onValue={setBody}
        error={form.fieldErrors.body}
      />
      <div class="choice">
        <input type="checkbox" id="details-wait" checked={wait} onChange={(e) => setWait(e.currentTarget.checked)} />
        <label for="details-wait">{t('details.wait')}</label>
      </div>
      <FormError message={form.formError} />
      <SubmitButton busy={busy} label={t('details.submit')} />
    </form>
  );
}

/** What the customer and the company said to each other. */
function Conversation({ question: q }: { question: QuestionDetail }) {
  const { t, lang } = useI18n();
  const messages = q.messages ?? [];
  return (
    <section class="card" aria-labelledby="q-conversation-heading">
      <h2 id="q-conversation-heading">{t('conversation.title')}</h2>
      {messages.length === 0 ? (
        <p class="muted">{t('conversation.none')}</p>
      ) : (
        <ol class="messages" aria-labelledby="q-conversation-heading">
          {messages.map((m) => (
            <li key={m.id} class={`message message-${m.author === 'customer' ? 'customer' : 'company'}`}>
              <p class="message-head">
                <strong>
                  {m.author === 'customer'
                    ? customerText(q.customer, t)
                    : m.author === 'system'
                      ? t('conversation.system')
                      : (m.author_user?.display_name ?? t('conversation.company'))}
                </strong>{' '}
                <span class="muted small">{formatDateTime(m.created_at, lang)}</span>
              </p>
              <p class="preserve-lines">{m.body}</p>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

/** The internal thread: comments between colleagues, with @mentions; never shown outside. */
function Thread({
  id,
  comments,
  error,
  onPosted,
}: {
  id: string;
  comments: QuestionComment[];
  error: unknown;
  onPosted: () => void;
}) {
  const { t, lang } = useI18n();
  const [body, setBody] = useState('');
  const [mentions, setMentions] = useState<PersonRef[]>([]);
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const form = useFormErrors<'body' | 'mentions'>('comment', ['body', 'mentions']);

  // A mention that is no longer in the text is no longer sent.
  useEffect(() => {
    setMentions((list) => list.filter((p) => body.includes(`@${p.display_name}`)));
  }, [body]);

  const mention = (person: PersonRef) => {
    const tag = `@${person.display_name}`;
    if (!body.includes(tag)) setBody((text) => `${text}${text && !/\s$/.test(text) ? ' ' : ''}${tag} `);
    setMentions((list) => (list.some((p) => p.id === person.id) ? list : [...list, person]));
    focusLater('comment-body');
  };

  const onSubmit = async (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    setStatus(null);
    if (form.check(body.trim() === '' ? { body: t('form.required') } : {}, ['body'])) return;
    setBusy(true);
    try {
      await apiFetch(`/questions/${id}/comments`, {
        method: 'POST',
        body: { body: body.trim(), mentions: mentions.map((p) => p.id) },
      });
      form.clear();
      setBody('');
      setMentions([]);
      setStatus(t('thread.posted'));
      onPosted();
    } catch (err) {
      form.fail(err);
    } finally {
      setBusy(false);
    }
  };

  const mentionName = (m: PersonRef | number) => (typeof m === 'number' ? `#${m}` : m.display_name);

  return (
    <section class="card thread" aria-labelledby="q-thread-heading">
      <h2 id="q-thread-heading">{t('thread.title')}</h2>
      <p class="muted small">{t('thread.internal')}</p>
      {error !== null && <LoadError error={error} />}
      {comments.length === 0 && error === null ? (
        <p class="muted">{t('thread.none')}</p>
      ) : (
        <ol class="messages" aria-labelledby="q-thread-heading">
          {comments.map((c) => (
            <li key={c.id} class="message message-comment">
              <p class="message-head">
                <strong>{c.author ? <a href={`/people/${c.author.id}`}>{c.author.display_name}</a> : t('question.nobody')}</strong>{' '}
                <span class="muted small">{formatDateTime(c.created_at, lang)}</span>
              </p>
              <p class="preserve-lines">{c.body}</p>
              {(c.mentions ?? []).length > 0 && (
                <p class="muted small">{t('thread.mentioned', { names: c.mentions.map(mentionName).join(', ') })}</p>
              )}
            </li>
          ))}
        </ol>
      )}
      <form class="form form-plain" method="post" noValidate onSubmit={onSubmit}>
        <TextAreaField
          id="comment-body"
          label={t('thread.comment')}
          rows={3}
          maxLength={10000}
          value={body}
          onValue={setBody}
          error={form.fieldErrors.body}
        />
        {mentions.length > 0 && (
          <ul class="chips" aria-label={t('thread.mentions')}>
            {mentions.map((p) => (
              <li key={p.id} class="chip chip-plain">
                @{p.display_name}{' '}
                <button
                  type="button"
                  class="link-button"
                  aria-label={t('thread.unmention', { name: p.display_name })}
                  onClick={() => {
                    setMentions((list) => list.filter((x) => x.id !== p.id));
                    setBody((text) => text.split(`@${p.display_name}`).join(p.display_name));
                  }}
                >
                  ×
                </button>
              </li>
            ))}
          </ul>
        )}
        <PersonPicker
          id="comment-mention"
          label={t('thread.mention')}
          hint={t('thread.mentionHint')}
          actionText={t('thread.mentionAction')}
          actionLabel={(p) => t('thread.mentionLabel', { name: p.display_name })}
          exclude={new Set(mentions.map((p) => p.id))}
          onPick={mention}
        />
        {form.fieldErrors.mentions && <p class="field-error">{form.fieldErrors.mentions}</p>}
        <FormError message={form.formError} />
        <SubmitButton busy={busy} label={t('thread.submit')} />
        <Status message={status} />
      </form>
    </section>
  );
}

/** A routing decision's score, part by part, in words. */
export function routingParts(r: RoutingDecision, t: T, lang: ReturnType<typeof useI18n>['lang']): string[] {
  const p = r.parts ?? {};
  const out: string[] = [];
  const points = (n: number) => formatSigned(n, lang);
  if (typeof p.expertise === 'number') out.push(t('routing.expertise', { points: points(p.expertise) }));
  if (typeof p.language === 'number')
    out.push(p.language > 0 ? t('routing.language', { points: points(p.language) }) : t('routing.noLanguage'));
  if (typeof p.availability === 'number')
    out.push(p.availability < 0 ? t('routing.outside', { points: points(p.availability) }) : t('routing.inside'));
  if (typeof p.load === 'number')
    out.push(
      p.load < 0
        ? t('routing.load', { points: points(p.load), count: Math.round(-p.load / 5) })
        : t('routing.noLoad'),
    );
  for (const [name, value] of Object.entries(p)) {
    if (['expertise', 'language', 'availability', 'load'].includes(name) || typeof value !== 'number') continue;
    out.push(`${name}: ${points(value)}`);
  }
  return out;
}

/** Why each expert was chosen: rank, score and its parts. */
function Routing({ routing }: { routing: RoutingDecision[] }) {
  const { t, lang } = useI18n();
  return (
    <section class="card" aria-labelledby="q-routing-heading">
      <h2 id="q-routing-heading">{t('routing.title')}</h2>
      {routing.length === 0 ? (
        <p class="muted">{t('routing.none')}</p>
      ) : (
        <ol class="routing-list">
          {routing.map((r, i) => (
            <li key={`${r.user?.id}-${r.created_at}-${i}`}>
              <p>
                <PersonLink person={r.user} /> — {r.rank === 1 ? t('routing.primary') : t('routing.backup')},{' '}
                {t('routing.score', { score: formatSigned(r.score, lang) })}
              </p>
              <ul class="plain-list small">
                {routingParts(r, t, lang).map((line) => (
                  <li key={line}>{line}</li>
                ))}
              </ul>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

const TIMELINE_KINDS = new Set([
  'question.received',
  'question.triaged',
  'question.triage',
  'question.routed',
  'question.assigned',
  'question.claimed',
  'question.unclaimed',
  'question.declined',
  'question.rerouted',
  'question.escalated',
  'question.refused',
  'question.moved',
  'question.customer_message',
  'question.message',
  'question.comment',
  'question.answered',
  'question.closed',
  'sla.paused',
  'sla.resumed',
  'sla.escalated',
  'sla.breached',
]);

function timelineText(e: TimelineEvent, t: T): string {
  const key = `timeline.${e.kind.replace(/\./g, '_')}`;
  const base = TIMELINE_KINDS.has(e.kind) ? t(key as 'timeline.question_received') : e.kind;
  const reason = typeof e.details?.reason === 'string' && e.details.reason ? e.details.reason : '';
  return reason ? t('timeline.withReason', { text: base, reason }) : base;
}

/** The question's history: intake, triage, routing, claims, SLA steps. */
function Timeline({ events }: { events: TimelineEvent[] }) {
  const { t, lang } = useI18n();
  return (
    <section class="card" aria-labelledby="q-timeline-heading">
      <h2 id="q-timeline-heading">{t('timeline.title')}</h2>
      {events.length === 0 ? (
        <p class="muted">{t('timeline.none')}</p>
      ) : (
        <ol class="timeline">
          {events.map((e) => (
            <li key={e.id}>
              <time dateTime={e.at} class="muted small">
                {formatDateTime(e.at, lang)}
              </time>{' '}
              <span>{timelineText(e, t)}</span>
              {e.actor && <span class="muted small"> — {e.actor.display_name}</span>}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

/** Answered questions that look alike. */
function Similar({ id }: { id: string }) {
  const { t } = useI18n();
  const similar = useApi<unknown>(`/questions/${id}/similar`);
  const items = listOf<QuestionListItem>(similar.data, 'similar');
  return (
    <section class="card" aria-labelledby="q-similar-heading">
      <h2 id="q-similar-heading">{t('similar.title')}</h2>
      {similar.error !== null ? (
        <LoadError error={similar.error} onRetry={similar.reload} />
      ) : !similar.data ? (
        <Loading />
      ) : items.length === 0 ? (
        <p class="muted">{t('similar.none')}</p>
      ) : (
        <ul class="plain-list">
          {items.map((s) => (
            <li key={s.id}>
              <a href={`/questions/${s.id}`}>{s.title}</a>
              {s.status && (
                <>
                  {' '}
                  <StatusBadge status={s.status} />
                </>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
