import { useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { apiFetch } from '../../api';
import { useI18n, type Lang, type MessageKey } from '../../i18n';
import { errorText } from '../../errors';
import { dayStart, formatDate, formatDateTime, isoDay } from '../../format';
import type { OutOfOffice } from '../../types';
import { FormError, Status, SubmitButton, TextField, useFormErrors } from '../../components/forms';

const FIELDS = ['starts_at', 'ends_at', 'note'] as const;
type Field = (typeof FIELDS)[number];

function isLocalMidnight(iso: string): boolean {
  const d = new Date(iso);
  return d.getHours() === 0 && d.getMinutes() === 0 && d.getSeconds() === 0 && d.getMilliseconds() === 0;
}

/** "24 Dec 2026 – 1 Jan 2027" for whole days (the end is exclusive), otherwise date and time. */
export function periodText(p: OutOfOffice, lang: Lang): { from: string; to: string } {
  if (isLocalMidnight(p.starts_at) && isLocalMidnight(p.ends_at)) {
    const lastDay = new Date(new Date(p.ends_at).getTime() - 1);
    return { from: formatDate(p.starts_at, lang), to: formatDate(lastDay, lang) };
  }
  return { from: formatDateTime(p.starts_at, lang), to: formatDateTime(p.ends_at, lang) };
}

/** Periods away: list, plan one (first and last day), cancel one. */
export function AwaySection({ initial }: { initial: readonly OutOfOffice[] }) {
  const { t, lang } = useI18n();
  const [periods, setPeriods] = useState<OutOfOffice[]>([...initial]);
  const [first, setFirst] = useState('');
  const [last, setLast] = useState('');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<MessageKey | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const form = useFormErrors<Field>('away', FIELDS);
  const today = isoDay(new Date());

  const onSubmit = async (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    setStatus(null);
    const startsAt = dayStart(first);
    const endsAt = dayStart(last, 1);
    const errors: Partial<Record<Field, string>> = {};
    if (!startsAt) errors.starts_at = t(first ? 'error.invalidDate' : 'form.required');
    if (!endsAt) errors.ends_at = t(last ? 'error.invalidDate' : 'form.required');
    else if (startsAt && last < first) errors.ends_at = t('away.lastBeforeFirst');
    else if (last < today) errors.ends_at = t('away.past');
    if (note.length > 500) errors.note = t('form.tooLong');
    if (form.check(errors, FIELDS)) return;
    setBusy(true);
    try {
      const created = await apiFetch<OutOfOffice>('/me/out-of-office', {
        method: 'POST',
        body: { starts_at: startsAt, ends_at: endsAt, note: note.trim() },
      });
      form.clear();
      setPeriods((current) => [...current, created].sort((a, b) => a.starts_at.localeCompare(b.starts_at)));
      setFirst('');
      setLast('');
      setNote('');
      setStatus('away.added');
    } catch (err) {
      form.fail(err);
    } finally {
      setBusy(false);
    }
  };

  const cancel = async (period: OutOfOffice) => {
    setStatus(null);
    setListError(null);
    try {
      await apiFetch(`/me/out-of-office/${period.id}`, { method: 'DELETE' });
      setPeriods((current) => current.filter((p) => p.id !== period.id));
      setStatus('away.cancelled');
    } catch (err) {
      setListError(errorText(err, t));
    }
  };

  return (
    <section class="card" id="away" aria-labelledby="away-heading">
      <h2 id="away-heading">{t('away.title')}</h2>
      <p class="muted">{t('away.intro')}</p>
      {periods.length === 0 ? (
        <p>{t('away.none')}</p>
      ) : (
        <ul class="rows">
          {periods.map((p) => {
            const { from, to } = periodText(p, lang);
            return (
              <li key={p.id} class="row">
                <span class="row-main">
                  <strong>{t('away.period', { from, to })}</strong>
                  {p.note && <span class="muted"> — {p.note}</span>}
                </span>
                <button
                  type="button"
                  class="button button-secondary button-small"
                  aria-label={t('away.cancelLabel', { from, to })}
                  onClick={() => void cancel(p)}
                >
                  {t('away.cancel')}
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {listError && (
        <p class="form-error" role="alert">
          {listError}
        </p>
      )}
      <form class="form form-plain" method="post" noValidate onSubmit={onSubmit} aria-labelledby="away-add-heading">
        <h3 id="away-add-heading">{t('away.add')}</h3>
        <div class="field-row">
          <TextField
            id="away-starts_at"
            label={t('away.first')}
            type="date"
            required
            min={today}
            value={first}
            onValue={(v) => {
              setFirst(v);
              if (!last || last < v) setLast(v);
            }}
            error={form.fieldErrors.starts_at}
          />
          <TextField
            id="away-ends_at"
            label={t('away.last')}
            type="date"
            required
            min={first || today}
            value={last}
            onValue={setLast}
            error={form.fieldErrors.ends_at}
          />
        </div>
        <TextField
          id="away-note"
          label={t('away.note')}
          hint={t('away.noteHint')}
          maxLength={500}
          value={note}
          onValue={setNote}
          error={form.fieldErrors.note}
        />
        <FormError message={form.formError} />
        <SubmitButton busy={busy} label={t('away.submit')} />
      </form>
      <Status message={status ? t(status) : null} />
    </section>
  );
}
