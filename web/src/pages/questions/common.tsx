import { useEffect, useState } from 'preact/hooks';
import { useI18n, type I18n } from '../../i18n';
import { formatDateTime, formatDuration, formatRelative } from '../../format';
import type { Customer, PersonRef, QuestionListItem, QuestionStatus } from '../../types';

/** The current time, re-read every `everyMs` so that relative deadlines stay true. */
export function useNow(everyMs = 30000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** The statuses in which the SLA clock runs or waits: the question is still open. */
export const OPEN_STATUSES: ReadonlySet<QuestionStatus> = new Set([
  'triage',
  'routing',
  'assigned',
  'claimed',
  'waiting_customer',
  'escalated',
]);

/** Under an hour left: the deadline is close. */
const SOON_SECONDS = 3600;

export function StatusBadge({ status }: { status: QuestionStatus }) {
  const { t } = useI18n();
  return <span class={`badge badge-q-${status}`}>{t(`qstatus.${status}` as const)}</span>;
}

export function CrisisBadge() {
  const { t } = useI18n();
  return <span class="badge badge-crisis">{t('question.crisis')}</span>;
}

export type Urgency = 'overdue' | 'soon' | 'ok' | 'paused' | 'none';

/** How urgent a question is, and the words for its deadline. */
export function deadline(q: QuestionListItem, now: number, i18n: Pick<I18n, 't' | 'lang'>): { urgency: Urgency; text: string } {
  const { t, lang } = i18n;
  if (q.status === 'waiting_customer' && typeof q.sla_remaining_seconds === 'number' && !q.sla_due_at) {
    return { urgency: 'paused', text: t('deadline.paused', { left: formatDuration(q.sla_remaining_seconds, lang) }) };
  }
  if (!q.sla_due_at || !OPEN_STATUSES.has(q.status)) return { urgency: 'none', text: t('deadline.none') };
  const due = new Date(q.sla_due_at).getTime();
  if (Number.isNaN(due)) return { urgency: 'none', text: t('deadline.none') };
  const seconds = (due - now) / 1000;
  if (seconds < 0) return { urgency: 'overdue', text: t('deadline.overdue', { when: formatRelative(seconds, lang) }) };
  return { urgency: seconds < SOON_SECONDS ? 'soon' : 'ok', text: t('deadline.due', { when: formatRelative(seconds, lang) }) };
}

/** The SLA deadline, relative ("due in 3 hours"), highlighted when close or past. */
export function Deadline({ question, now }: { question: QuestionListItem; now: number }) {
  const i18n = useI18n();
  const { urgency, text } = deadline(question, now, i18n);
  if (urgency === 'none') return <span class="muted">{text}</span>;
  const absolute = question.sla_due_at ? formatDateTime(question.sla_due_at, i18n.lang) : '';
  return (
    <span class={`deadline deadline-${urgency}`}>
      {urgency === 'overdue' && <span aria-hidden="true">⚠ </span>}
      {question.sla_due_at ? (
        <time dateTime={question.sla_due_at} title={absolute}>
          {text}
        </time>
      ) : (
        text
      )}
    </span>
  );
}

/** Who the customer is: name and e-mail for managers and admins, the pseudonym for others. */
export function customerText(customer: Customer | undefined, t: I18n['t']): string {
  if (!customer) return t('customer.unknown');
  const who = [customer.name, customer.email ? `<${customer.email}>` : ''].filter(Boolean).join(' ');
  if (who) return customer.external_ref ? `${who} (${customer.external_ref})` : who;
  return customer.pseudonym || t('customer.unknown');
}

export function PersonLink({ person }: { person: PersonRef | null | undefined }) {
  const { t } = useI18n();
  if (!person) return <span class="muted">{t('question.nobody')}</span>;
  return <a href={`/people/${person.id}`}>{person.display_name}</a>;
}
