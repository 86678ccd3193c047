import { useEffect, useRef, useState } from 'preact/hooks';
import { apiFetch, query } from '../api';
import { useI18n } from '../i18n';
import { errorText } from '../errors';
import type { Page, Person } from '../types';

/**
 * Finds a person in the directory (GET /people?q=) and offers one button per result. Not a
 * form of its own (it may sit inside one): Enter in the search box searches.
 */
export function PersonPicker({
  id,
  label,
  hint,
  actionText,
  actionLabel,
  onPick,
  exclude,
  error: fieldError,
}: {
  id: string;
  label: string;
  hint?: string;
  /** The visible text of each result's button ("Invite"). */
  actionText: string;
  /** Its accessible name, naming the person ("Invite Ada Admin"). */
  actionLabel: (person: Person) => string;
  onPick: (person: Person) => void;
  /** People not to offer (already members...). */
  exclude?: ReadonlySet<number>;
  /** A problem with the choice, said next to the search box (a form's field error). */
  error?: string | undefined;
}) {
  const { t } = useI18n();
  const [q, setQ] = useState('');
  const [results, setResults] = useState<Person[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const controller = useRef<AbortController | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const search = (text: string) => {
    if (timer.current) clearTimeout(timer.current);
    controller.current?.abort();
    const words = text.trim();
    if (words === '') {
      setResults(null);
      setError(null);
      return;
    }
    const c = new AbortController();
    controller.current = c;
    setBusy(true);
    apiFetch<Page<Person>>(`/people${query({ q: words, limit: 8 })}`, { signal: c.signal }).then(
      (page) => {
        setResults(page.items);
        setError(null);
        setBusy(false);
      },
      (err: unknown) => {
        if (err instanceof DOMException && err.name === 'AbortError') return;
        setError(errorText(err, t));
        setBusy(false);
      },
    );
  };

  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
      controller.current?.abort();
    },
    [],
  );

  const onInput = (value: string) => {
    setQ(value);
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => search(value), 300);
  };

  const shown = results?.filter((p) => !exclude?.has(p.id)) ?? null;
  const describedBy = [hint ? `${id}-hint` : '', fieldError ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;

  return (
    <div class="picker">
      <label for={id}>{label}</label>
      {hint && (
        <p id={`${id}-hint`} class="field-hint">
          {hint}
        </p>
      )}
      <div class="picker-row">
        <input
          id={id}
          type="search"
          value={q}
          autoComplete="off"
          aria-invalid={fieldError ? 'true' : undefined}
          aria-describedby={describedBy}
          onInput={(e) => onInput(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              search(q);
            }
          }}
        />
        <button type="button" class="button button-secondary" onClick={() => search(q)}>
          {t('picker.search')}
        </button>
      </div>
      {fieldError && (
        <p id={`${id}-error`} class="field-error">
          {fieldError}
        </p>
      )}
      <p class="picker-status" role="status">
        {busy
          ? t('common.loading')
          : shown === null
            ? ''
            : shown.length === 0
              ? t('picker.none')
              : t('picker.count', { count: shown.length })}
      </p>
      {error && (
        <p class="field-error" role="alert">
          {error}
        </p>
      )}
      {shown && shown.length > 0 && (
        <ul class="picker-results" aria-label={t('picker.results')}>
          {shown.map((person) => (
            <li key={person.id}>
              <span class="picker-person">
                <span class="person-name">{person.display_name}</span>
                {(person.job_title || person.department) && (
                  <span class="muted">
                    {' '}
                    {[person.job_title, person.department].filter(Boolean).join(' · ')}
                  </span>
                )}
              </span>
              <button
                type="button"
                class="button button-small"
                aria-label={actionLabel(person)}
                onClick={() => onPick(person)}
              >
                {actionText}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
