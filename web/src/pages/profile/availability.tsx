import { useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { apiFetch } from '../../api';
import { useI18n, type MessageKey } from '../../i18n';
import { DAYS, type Day, type Me, type OwnProfile, type WorkingHours } from '../../types';
import { FormError, Status, SubmitButton, TextField, focusLater, useFormErrors } from '../../components/forms';

const TIME = /^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$/;

/** One day in the editor: up to two ranges, as typed. */
interface DayDraft {
  start1: string;
  end1: string;
  second: boolean;
  start2: string;
  end2: string;
}

type Draft = Record<Day, DayDraft>;
type TimeField = 'start1' | 'end1' | 'start2' | 'end2';

function toDraft(hours: WorkingHours): Draft {
  const draft = {} as Draft;
  for (const day of DAYS) {
    const ranges = hours[day] ?? [];
    draft[day] = {
      start1: ranges[0]?.[0] ?? '',
      end1: ranges[0]?.[1] ?? '',
      second: ranges.length > 1,
      start2: ranges[1]?.[0] ?? '',
      end2: ranges[1]?.[1] ?? '',
    };
  }
  return draft;
}

/** "9:00" → "09:00"; anything else is returned trimmed. */
function normalizeTime(value: string): string {
  const v = value.trim();
  const m = /^(\d{1,2})[:h.](\d{2})$/.exec(v);
  return m ? `${m[1]!.padStart(2, '0')}:${m[2]}` : v;
}

interface DayProblem {
  field: TimeField;
  message: MessageKey;
}

/** The day's ranges, or the first problem found. */
function readDay(d: DayDraft): { ranges: Array<[string, string]> } | DayProblem {
  const ranges: Array<[string, string]> = [];
  const pairs: Array<[TimeField, TimeField]> = d.second ? [['start1', 'end1'], ['start2', 'end2']] : [['start1', 'end1']];
  let previousEnd: string | null = null;
  for (const [s, e] of pairs) {
    const start = normalizeTime(d[s]);
    const end = normalizeTime(d[e]);
    if (start === '' && end === '') {
      if (s === 'start2') return { field: s, message: 'hours.secondEmpty' };
      continue;
    }
    if (!TIME.test(start)) return { field: s, message: 'hours.timeInvalid' };
    if (!TIME.test(end)) return { field: e, message: 'hours.timeInvalid' };
    if (end <= start) return { field: e, message: 'hours.endBeforeStart' };
    if (previousEnd !== null && start < previousEnd) return { field: s, message: 'hours.overlap' };
    if (previousEnd === null && s === 'start2') return { field: 'start1', message: 'hours.firstEmpty' };
    ranges.push([start, end]);
    previousEnd = end;
  }
  return { ranges };
}

/** Weekly cap and working hours: PATCH /api/v1/me. */
export function AvailabilitySection({ me }: { me: Me }) {
  const { t } = useI18n();
  const [cap, setCap] = useState(String(me.weekly_cap));
  const [draft, setDraft] = useState<Draft>(() => toDraft(me.working_hours));
  const [dayErrors, setDayErrors] = useState<Partial<Record<Day, DayProblem>>>({});
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<MessageKey | null>(null);
  const form = useFormErrors<'weekly_cap' | 'working_hours'>('availability', ['weekly_cap', 'working_hours']);

  const change = (day: Day, changes: Partial<DayDraft>) => {
    setDraft((current) => ({ ...current, [day]: { ...current[day], ...changes } }));
    setStatus(null);
  };

  const copyMonday = () => {
    setDraft((current) => {
      const next = { ...current };
      for (const day of ['tue', 'wed', 'thu', 'fri'] as const) next[day] = { ...current.mon };
      return next;
    });
    setStatus('hours.copied');
  };

  const onSubmit = async (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    setStatus(null);
    const capValue = cap.trim();
    const capNumber = Number(capValue);
    const capOk = /^\d{1,4}$/.test(capValue) && capNumber <= 1000;
    const problems: Partial<Record<Day, DayProblem>> = {};
    const hours: WorkingHours = {};
    for (const day of DAYS) {
      const result = readDay(draft[day]);
      if ('ranges' in result) {
        if (result.ranges.length) hours[day] = result.ranges;
      } else {
        problems[day] = result;
      }
    }
    setDayErrors(problems);
    if (form.check(capOk ? {} : { weekly_cap: t('availability.capInvalid') }, ['weekly_cap'])) return;
    const firstBad = DAYS.find((d) => problems[d]);
    if (firstBad) {
      focusLater(`hours-${firstBad}-${problems[firstBad]!.field}`);
      return;
    }
    setBusy(true);
    try {
      const saved = await apiFetch<OwnProfile>('/me', {
        method: 'PATCH',
        body: { weekly_cap: capNumber, working_hours: hours },
      });
      form.clear();
      setCap(String(saved.weekly_cap));
      setDraft(toDraft(saved.working_hours));
      setStatus('availability.saved');
    } catch (err) {
      form.fail(err);
    } finally {
      setBusy(false);
    }
  };

  const timeInput = (day: Day, field: TimeField, label: string) => {
    const id = `hours-${day}-${field}`;
    const problem = dayErrors[day];
    const invalid = problem?.field === field;
    return (
      <div class="field field-time">
        <label for={id}>{label}</label>
        <input
          id={id}
          type="text"
          inputMode="numeric"
          placeholder={t('hours.placeholder')}
          maxLength={5}
          size={6}
          autoComplete="off"
          value={draft[day][field]}
          aria-invalid={invalid ? 'true' : undefined}
          aria-describedby={problem ? `hours-${day}-error` : undefined}
          onInput={(e) => change(day, { [field]: e.currentTarget.value })}
        />
      </div>
    );
  };

  return (
    <section class="card" id="availability" aria-labelledby="availability-heading">
      <h2 id="availability-heading">{t('availability.title')}</h2>
      <p class="muted">{t('availability.intro')}</p>
      <form class="form form-plain" method="post" noValidate onSubmit={onSubmit}>
        <TextField
          id="availability-weekly_cap"
          label={t('availability.cap')}
          hint={t('availability.capHint')}
          type="number"
          inputMode="numeric"
          min={0}
          max={1000}
          step={1}
          value={cap}
          onValue={setCap}
          error={form.fieldErrors.weekly_cap}
          className="field-short"
        />
        <fieldset class="hours" id="availability-working_hours" tabIndex={-1}>
          <legend>{t('hours.title')}</legend>
          <p class="field-hint">{t('hours.hint', { zone: me.time_zone })}</p>
          {DAYS.map((day) => {
            const d = draft[day];
            const problem = dayErrors[day];
            return (
              <fieldset key={day} class="hours-day">
                <legend>{t(`day.${day}` as const)}</legend>
                <div class="hours-ranges">
                  {timeInput(day, 'start1', t('hours.from'))}
                  {timeInput(day, 'end1', t('hours.to'))}
                  {d.second && (
                    <>
                      {timeInput(day, 'start2', t('hours.from2'))}
                      {timeInput(day, 'end2', t('hours.to2'))}
                    </>
                  )}
                  <button
                    type="button"
                    class="button button-secondary button-small"
                    aria-label={t(d.second ? 'hours.removeSecondFor' : 'hours.addSecondFor', { day: t(`day.${day}` as const) })}
                    onClick={() => {
                      change(day, d.second ? { second: false, start2: '', end2: '' } : { second: true });
                      if (!d.second) focusLater(`hours-${day}-start2`);
                    }}
                  >
                    {t(d.second ? 'hours.removeSecond' : 'hours.addSecond')}
                  </button>
                </div>
                {problem && (
                  <p id={`hours-${day}-error`} class="field-error">
                    {t(problem.message)}
                  </p>
                )}
              </fieldset>
            );
          })}
          <button type="button" class="button button-secondary" onClick={copyMonday}>
            {t('hours.copyMonday')}
          </button>
        </fieldset>
        {form.fieldErrors.working_hours && (
          <p class="field-error" role="alert">
            {form.fieldErrors.working_hours}
          </p>
        )}
        <FormError message={form.formError} />
        <SubmitButton busy={busy} label={t('availability.save')} />
        <Status message={status ? t(status) : null} />
      </form>
    </section>
  );
}
