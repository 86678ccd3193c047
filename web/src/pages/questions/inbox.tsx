import { useEffect, useRef, useState } from 'preact/hooks';
import { apiFetch, query } from '../../api';
import { useI18n } from '../../i18n';
import { useApi, usePagedList } from '../../hooks';
import { useEvents, useLiveEvents } from '../../events';
import { useSession } from '../../session';
import type { Me, Notification, Page, QuestionListItem, QuestionStatus } from '../../types';
import { SelectField, Status } from '../../components/forms';
import { LoadError, gateView, useTitle } from '../../components/views';
import { CrisisBadge, Deadline, StatusBadge, customerText, useNow } from './common';
import { AssignPanel } from './assign';

export type InboxScope = 'mine' | 'triage';

// A message for the inbox from the page that sent the user back to it ("You have declined...").
let flash: string | null = null;
export function setInboxFlash(message: string): void {
  flash = message;
}

// What "mine" holds (the open questions assigned to or claimed by me); the triage queue is one status.
const MINE_STATUSES: readonly QuestionStatus[] = ['assigned', 'claimed', 'waiting_customer', 'escalated'];

// What changes the list: a question given to me or taken away, an escalation, a customer
// writing back; for the triage queue, a question landing in it.
const REFRESH_KINDS: Readonly<Record<InboxScope, ReadonlySet<string>>> = {
  mine: new Set(['question.assigned', 'question.escalated', 'question.unassigned', 'question.customer_message']),
  triage: new Set(['question.triage', 'question.assigned', 'question.escalated', 'question.unassigned']),
};

/** The sub-navigation between my questions and the triage queue (for managers and admins). */
function InboxTabs({ scope }: { scope: InboxScope }) {
  const { t } = useI18n();
  return (
    <nav class="subnav" aria-label={t('inbox.sections')}>
      <ul>
        <li>
          <a href="/questions" aria-current={scope === 'mine' ? 'page' : undefined}>
            {t('inbox.mine')}
          </a>
        </li>
        <li>
          <a href="/questions/triage" aria-current={scope === 'triage' ? 'page' : undefined}>
            {t('inbox.triage')}
          </a>
        </li>
      </ul>
    </nav>
  );
}

/** /questions (mine) and /questions/triage: questions ordered by deadline, live. */
export function InboxPage({ scope }: { scope: InboxScope }) {
  const { t } = useI18n();
  const { user } = useSession();
  const { markSeen, generation } = useEvents();
  const me = useApi<Me>('/me');
  const [status, setStatus] = useState<QuestionStatus | ''>('');
  const path = `/questions${query({ scope, status, limit: 50 })}`;
  const list = usePagedList<QuestionListItem>(path);
  const [announce, setAnnounce] = useState<string | null>(() => {
    const message = flash;
    flash = null;
    return message;
  });
  const [fresh, setFresh] = useState<ReadonlySet<number>>(new Set());
  const [assigning, setAssigning] = useState<number | null>(null);
  const now = useNow();
  const firstGeneration = useRef(generation);
  // Rows count as new only once the list has been shown: not at the first load.
  const shown = useRef(false);
  if (!list.loading && list.error === null) shown.current = true;
  const title = scope === 'triage' ? t('inbox.triageTitle') : t('questions.title');
  const gate = gateView(list.error);
  useTitle(gate ? false : title);

  const manages =
    user?.role === 'admin' || (me.data?.communities ?? []).some((c) => c.role === 'manager' && c.status === 'active');

  // Seen: the badge in the navigation goes back to zero.
  useEffect(() => markSeen(), [markSeen]);

  /** Reads the first page again without emptying the list, and marks the new rows. */
  const refresh = async (event?: Notification) => {
    try {
      const page = await apiFetch<Page<QuestionListItem>>(path);
      if (!page?.items) return;
      const known = new Set(list.items.map((q) => q.id));
      const added = shown.current ? page.items.filter((q) => !known.has(q.id)) : [];
      list.setItems(() => page.items);
      if (added.length > 0) {
        setFresh(new Set(added.map((q) => q.id)));
        setAnnounce(
          added.length === 1 ? t('inbox.newOne', { title: added[0]!.title }) : t('inbox.newMany', { count: added.length }),
        );
      } else if (event?.kind === 'question.customer_message') {
        const q = page.items.find((x) => x.id === event.question_id);
        setAnnounce(q ? t('inbox.customerWrote', { title: q.title }) : null);
      }
    } catch {
      // The next event or a reload tries again.
    }
  };

  useLiveEvents((event) => {
    if (!REFRESH_KINDS[scope].has(event.kind)) return;
    void refresh(event);
    markSeen();
  });

  // After a reconnection, the list may have changed while the stream was down.
  useEffect(() => {
    if (generation !== firstGeneration.current) void refresh();
  }, [generation]);

  if (gate) return gate;

  return (
    <section class="page page-wide" data-page={scope === 'triage' ? 'triage' : 'questions'}>
      <h1 tabIndex={-1}>{title}</h1>
      <p class="lead">{scope === 'triage' ? t('inbox.triageIntro') : t('inbox.intro')}</p>
      {(manages || scope === 'triage') && <InboxTabs scope={scope} />}
      {scope === 'mine' && (
        <form class="form search-form filter-bar" role="search" aria-label={t('inbox.filters')} onSubmit={(e) => e.preventDefault()}>
          <SelectField<QuestionStatus | ''>
            id="inbox-status"
            label={t('inbox.status')}
            value={status}
            onValue={setStatus}
            options={[
              { value: '', label: t('inbox.anyStatus') },
              ...MINE_STATUSES.map((s) => ({ value: s, label: t(`qstatus.${s}` as const) })),
            ]}
          />
        </form>
      )}
      <Status message={announce} />
      {list.error !== null && <LoadError error={list.error} onRetry={list.reload} />}
      <p class="result-count" role="status">
        {list.loading && list.items.length === 0
          ? t('common.loading')
          : list.items.length === 0 && !list.error
            ? scope === 'triage'
              ? t('inbox.triageEmpty')
              : t('inbox.empty')
            : ''}
      </p>
      <ul class="rows question-list" aria-label={title}>
        {list.items.map((q) => (
          <li key={q.id} class={fresh.has(q.id) ? 'row question-row row-new' : 'row question-row'}>
            <span class="row-main">
              <span>
                <a class="question-title" href={`/questions/${q.id}`}>
                  {q.title}
                </a>
                {fresh.has(q.id) && <span class="badge badge-accent">{t('inbox.new')}</span>}
              </span>
              <span class="meta">
                <StatusBadge status={q.status} />
                {q.crisis && <CrisisBadge />}
                {q.community && <span class="muted small">{q.community.name}</span>}
                <span class="muted small">{customerText(q.customer, t)}</span>
                {scope === 'triage' && q.triage_reason && (
                  <span class="muted small">{t('inbox.triageReason', { reason: triageReason(q.triage_reason, t) })}</span>
                )}
              </span>
            </span>
            <span class="row-actions">
              <Deadline question={q} now={now} />
              {scope === 'triage' && (
                <button
                  type="button"
                  class="button button-secondary button-small"
                  aria-expanded={assigning === q.id ? 'true' : 'false'}
                  aria-label={t('inbox.assignLabel', { title: q.title })}
                  onClick={() => setAssigning(assigning === q.id ? null : q.id)}
                >
                  {t('inbox.assign')}
                </button>
              )}
            </span>
            {scope === 'triage' && assigning === q.id && (
              <AssignPanel
                questionId={q.id}
                communityId={q.community?.id}
                title={q.title}
                onDone={(message) => {
                  setAssigning(null);
                  setAnnounce(message);
                  list.setItems((items) => items.filter((x) => x.id !== q.id));
                }}
              />
            )}
          </li>
        ))}
      </ul>
      {list.more && (
        <button type="button" class="button button-secondary more" onClick={list.loadMore}>
          {list.loading ? t('common.loading') : t('inbox.more')}
        </button>
      )}
    </section>
  );
}

/** Why a question waits in the triage queue, in words. */
export function triageReason(reason: string, t: ReturnType<typeof useI18n>['t']): string {
  if (reason === 'no_expert') return t('triage.noExpert');
  if (reason === 'no_rule' || reason === 'no_match' || reason === 'off_topic') return t('triage.noRule');
  if (reason === 'manual' || reason === 'moved') return t('triage.moved');
  return reason;
}
