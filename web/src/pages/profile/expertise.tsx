import { useRef, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { apiFetch } from '../../api';
import { useI18n, type MessageKey } from '../../i18n';
import { TAG_PATTERN, type ExpertiseItem } from '../../types';
import { FormError, Status, SubmitButton, focusLater, useFormErrors } from '../../components/forms';

interface Row {
  key: number;
  tag: string;
  level: number;
}

export const LEVELS = [1, 2, 3, 4, 5] as const;
const MAX_ITEMS = 50;

/** The list editor of one's expertise: tag and level 1–5 per row; PUT /api/v1/me/expertise. */
export function ExpertiseSection({ initial }: { initial: readonly ExpertiseItem[] }) {
  const { t } = useI18n();
  const nextKey = useRef(0);
  const toRows = (items: readonly ExpertiseItem[]) =>
    items.map((item) => ({ key: nextKey.current++, tag: item.tag, level: item.level }));
  const [rows, setRows] = useState<Row[]>(() => toRows(initial));
  const [rowErrors, setRowErrors] = useState<Record<number, MessageKey>>({});
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<MessageKey | null>(null);
  const form = useFormErrors<'expertise'>('expertise', ['expertise']);

  const update = (key: number, change: Partial<Row>) => {
    setRows((current) => current.map((r) => (r.key === key ? { ...r, ...change } : r)));
    setStatus(null);
  };

  const add = () => {
    if (rows.length >= MAX_ITEMS) return;
    const key = nextKey.current++;
    setRows((current) => [...current, { key, tag: '', level: 3 }]);
    setStatus(null);
    focusLater(`expertise-tag-${key}`);
  };

  const remove = (index: number) => {
    const following = rows[index + 1] ?? rows[index - 1];
    setRows((current) => current.filter((_, i) => i !== index));
    setStatus('expertise.removedUnsaved');
    // Keep the keyboard user in the list: the next row's tag, or the add button.
    focusLater(following ? `expertise-tag-${following.key}` : 'expertise-add');
  };

  const onSubmit = async (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    setStatus(null);
    form.clear();
    const errors: Record<number, MessageKey> = {};
    const seen = new Set<string>();
    const items: ExpertiseItem[] = [];
    for (const row of rows) {
      const tag = row.tag.trim().toLowerCase();
      if (tag === '') errors[row.key] = 'expertise.tagRequired';
      else if (!TAG_PATTERN.test(tag)) errors[row.key] = 'expertise.tagInvalid';
      else if (seen.has(tag)) errors[row.key] = 'expertise.duplicate';
      else {
        seen.add(tag);
        items.push({ tag, level: row.level });
      }
    }
    setRowErrors(errors);
    const firstBad = rows.find((r) => errors[r.key]);
    if (firstBad) {
      focusLater(`expertise-tag-${firstBad.key}`);
      return;
    }
    setBusy(true);
    try {
      const saved = await apiFetch<{ expertise: ExpertiseItem[] }>('/me/expertise', {
        method: 'PUT',
        body: { expertise: items },
      });
      setRows(toRows(saved.expertise));
      setStatus('expertise.saved');
    } catch (err) {
      form.fail(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card" id="expertise" aria-labelledby="expertise-heading">
      <h2 id="expertise-heading">{t('expertise.title')}</h2>
      <p class="muted">{t('expertise.intro')}</p>
      <form class="form form-plain" method="post" noValidate onSubmit={onSubmit}>
        {rows.length === 0 ? (
          <p>{t('expertise.none')}</p>
        ) : (
          <ol class="editor-list" id="expertise-expertise" tabIndex={-1}>
            {rows.map((row, index) => {
              const error = rowErrors[row.key];
              const tagId = `expertise-tag-${row.key}`;
              return (
                <li key={row.key}>
                  <fieldset>
                    <legend class="visually-hidden">{t('expertise.item', { n: index + 1 })}</legend>
                    <div class="editor-row">
                    <div class="field">
                      <label for={tagId}>{t('expertise.tag')}</label>
                      <input
                        id={tagId}
                        type="text"
                        value={row.tag}
                        maxLength={48}
                        spellcheck={false}
                        autoCapitalize="none"
                        aria-invalid={error ? 'true' : undefined}
                        aria-describedby={error ? `${tagId}-error` : 'expertise-tag-hint'}
                        onInput={(e) => update(row.key, { tag: e.currentTarget.value })}
                      />
                    </div>
                    <div class="field">
                      <label for={`expertise-level-${row.key}`}>{t('expertise.level')}</label>
                      <select
                        id={`expertise-level-${row.key}`}
                        value={String(row.level)}
                        onChange={(e) => update(row.key, { level: Number(e.currentTarget.value) })}
                      >
                        {LEVELS.map((level) => (
                          <option key={level} value={String(level)}>
                            {t(`expertise.level${level}` as const)}
                          </option>
                        ))}
                      </select>
                    </div>
                    <button
                      type="button"
                      class="button button-secondary button-small"
                      aria-label={row.tag.trim() ? t('expertise.removeTag', { tag: row.tag.trim() }) : t('expertise.removeRow', { n: index + 1 })}
                      onClick={() => remove(index)}
                    >
                      {t('common.remove')}
                    </button>
                    {error && (
                      <p id={`${tagId}-error`} class="field-error editor-error">
                        {t(error)}
                      </p>
                    )}
                    </div>
                  </fieldset>
                </li>
              );
            })}
          </ol>
        )}
        <p id="expertise-tag-hint" class="field-hint">
          {t('expertise.tagHint')}
        </p>
        <div class="actions">
          <button
            type="button"
            id="expertise-add"
            class="button button-secondary"
            onClick={add}
            aria-disabled={rows.length >= MAX_ITEMS ? 'true' : undefined}
          >
            {t('expertise.add')}
          </button>
          <SubmitButton busy={busy} label={t('expertise.save')} />
        </div>
        <FormError message={form.fieldErrors.expertise ?? form.formError} />
        <Status message={status ? t(status) : null} />
      </form>
    </section>
  );
}
