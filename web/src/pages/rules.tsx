import { useRef, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { ApiError, apiFetch } from '../api';
import { useI18n } from '../i18n';
import { errorText, fieldErrorText } from '../errors';
import { formatDateTime, parseList } from '../format';
import { useApi } from '../hooks';
import {
  RULE_ACTIONS,
  TAG_PATTERN,
  type CrisisTopic,
  type PerimeterRule,
  type Person,
  type PersonRef,
  type RuleAction,
  type RulesAnswer,
} from '../types';
import { FormError, Status, SubmitButton, TextField, focusLater, useFormErrors } from '../components/forms';
import { PersonPicker } from '../components/personpicker';
import { LoadError, Loading } from '../components/views';

const LANGUAGES = ['en', 'fr'] as const;
const MAX_RULES = 100;
const RULE_FIELDS = ['name', 'tags', 'keywords', 'languages', 'action', 'owner_user_id', 'canned_reply', 'topic'] as const;
type RuleField = (typeof RULE_FIELDS)[number];

interface Row {
  key: number;
  name: string;
  tags: string;
  keywords: string;
  languages: string[];
  action: RuleAction;
  owner: PersonRef | null;
  canned_reply: string;
  topic: string;
}

/** Keywords may hold spaces ("legal action"): only commas and new lines separate them. */
function parseKeywords(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(/[,\n]+/)) {
    const v = part.trim();
    if (v && !out.includes(v)) out.push(v);
  }
  return out;
}

/** The rules carry the owner's id only: the name comes from the directory (OwnerName). */
function ownerOf(rule: PerimeterRule): PersonRef | null {
  if (rule.owner_user_id === null || rule.owner_user_id === undefined) return null;
  return { id: rule.owner_user_id, display_name: '' };
}

function OwnerName({ owner }: { owner: PersonRef }) {
  const { t } = useI18n();
  const person = useApi<Person>(owner.display_name ? null : `/people/${owner.id}`);
  const name = owner.display_name || person.data?.display_name || `#${owner.id}`;
  return <p class="picked">{t('rules.ownerIs', { name })}</p>;
}

/**
 * The 422 `field` of a rule, as the server names it ("rules[2].owner_user_id",
 * "rules.2.owner_user_id" or "rules/2/owner_user_id"): the rule's index and field.
 */
export function ruleErrorField(field: string | undefined): { index: number; field: RuleField } | null {
  const m = field ? /^rules\W*(\d+)\W+([a-z_]+)/.exec(field) : null;
  if (!m) return null;
  const name = m[2] === 'owner' ? 'owner_user_id' : m[2]!;
  if (!(RULE_FIELDS as readonly string[]).includes(name)) return null;
  return { index: Number(m[1]), field: name as RuleField };
}

/** Perimeter rules and crisis topics of a community, for its managers and the admins. */
export function RulesSection({ communityId }: { communityId: string }) {
  const { t } = useI18n();
  const rules = useApi<RulesAnswer>(`/communities/${communityId}/rules`);
  return (
    <section class="card rules-card" aria-labelledby="rules-heading" id="rules">
      <h2 id="rules-heading">{t('rules.title')}</h2>
      <p class="muted">{t('rules.intro')}</p>
      {rules.error !== null && !rules.data ? (
        <LoadError error={rules.error} onRetry={rules.reload} />
      ) : !rules.data ? (
        <Loading />
      ) : (
        <>
          <RulesEditor communityId={communityId} initial={rules.data.rules ?? []} />
          <CrisisTopics communityId={communityId} topics={rules.data.crisis ?? []} onChange={rules.reload} />
        </>
      )}
    </section>
  );
}

function RulesEditor({ communityId, initial }: { communityId: string; initial: readonly PerimeterRule[] }) {
  const { t } = useI18n();
  const nextKey = useRef(0);
  const toRows = (list: readonly PerimeterRule[]): Row[] =>
    list.map((r) => ({
      key: nextKey.current++,
      name: r.name ?? '',
      tags: (r.tags ?? []).join(', '),
      keywords: (r.keywords ?? []).join(', '),
      languages: r.languages ?? [],
      action: r.action,
      owner: ownerOf(r),
      canned_reply: r.canned_reply ?? '',
      topic: r.topic ?? '',
    }));
  const [rows, setRows] = useState<Row[]>(() => toRows(initial));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const form = useFormErrors<'rules'>('rules', ['rules']);

  const update = (key: number, change: Partial<Row>) => {
    setRows((current) => current.map((r) => (r.key === key ? { ...r, ...change } : r)));
    setStatus(null);
  };

  const add = () => {
    if (rows.length >= MAX_RULES) return;
    const key = nextKey.current++;
    setRows((current) => [
      ...current,
      { key, name: '', tags: '', keywords: '', languages: [], action: 'answer', owner: null, canned_reply: '', topic: '' },
    ]);
    setStatus(t('rules.addedUnsaved'));
    focusLater(`rule-${key}-name`);
  };

  const remove = (index: number) => {
    const following = rows[index + 1] ?? rows[index - 1];
    setRows((current) => current.filter((_, i) => i !== index));
    setStatus(t('rules.removedUnsaved'));
    focusLater(following ? `rule-${following.key}-name` : 'rules-add');
  };

  const move = (index: number, by: -1 | 1) => {
    const to = index + by;
    if (to < 0 || to >= rows.length) return;
    const row = rows[index]!;
    setRows((current) => {
      const next = [...current];
      next.splice(index, 1);
      next.splice(to, 0, row);
      return next;
    });
    setStatus(t('rules.moved', { name: row.name || t('rules.item', { n: index + 1 }), n: to + 1 }));
    // Keep the focus on the same button of the moved rule, or on the other one at an end.
    const edge = (by === -1 && to === 0) || (by === 1 && to === rows.length - 1);
    focusLater(`rule-${row.key}-${edge ? (by === -1 ? 'down' : 'up') : by === -1 ? 'up' : 'down'}`);
  };

  const validate = (): Record<string, string> => {
    const found: Record<string, string> = {};
    for (const row of rows) {
      const badTag = parseList(row.tags).find((tag) => !TAG_PATTERN.test(tag));
      if (badTag) found[`${row.key}.tags`] = t('rules.tagInvalid', { tag: badTag });
      if (row.action === 'escalate' && !row.owner) found[`${row.key}.owner_user_id`] = t('rules.ownerRequired');
      if (row.action === 'refuse' && row.canned_reply.trim() === '') found[`${row.key}.canned_reply`] = t('rules.replyRequired');
      const topic = row.topic.trim();
      if (topic && !TAG_PATTERN.test(topic)) found[`${row.key}.topic`] = t('rules.topicInvalid');
    }
    return found;
  };

  const onSubmit = async (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    setStatus(null);
    form.clear();
    const found = validate();
    setErrors(found);
    const first = rows.flatMap((r) => RULE_FIELDS.map((f) => `${r.key}.${f}`)).find((k) => found[k]);
    if (first) {
      const [key, field] = first.split('.');
      focusLater(`rule-${key}-${field}`);
      return;
    }
    setBusy(true);
    try {
      const body = {
        rules: rows.map((r) => ({
          name: r.name.trim(),
          tags: parseList(r.tags),
          keywords: parseKeywords(r.keywords),
          languages: r.languages,
          action: r.action,
          owner_user_id: r.action === 'escalate' ? (r.owner?.id ?? null) : null,
          canned_reply: r.action === 'refuse' ? r.canned_reply.trim() : '',
          topic: r.topic.trim(),
        })),
      };
      const saved = await apiFetch<Partial<RulesAnswer> | undefined>(`/communities/${communityId}/rules`, {
        method: 'PUT',
        body,
      });
      if (saved && Array.isArray(saved.rules)) setRows(toRows(saved.rules));
      setStatus(t('rules.saved'));
    } catch (err) {
      const where = err instanceof ApiError ? ruleErrorField(err.field) : null;
      const row = where ? rows[where.index] : undefined;
      if (where && row && err instanceof ApiError) {
        setErrors({ [`${row.key}.${where.field}`]: fieldErrorText(err, t) });
        focusLater(`rule-${row.key}-${where.field}`);
      } else {
        form.fail(err);
      }
    } finally {
      setBusy(false);
    }
  };

  const describe = (id: string, key: string, hint?: boolean) => {
    const ids = [hint ? `${id}-hint` : '', errors[key] ? `${id}-error` : ''].filter(Boolean).join(' ');
    return ids || undefined;
  };
  const fieldError = (id: string, key: string) =>
    errors[key] ? (
      <p id={`${id}-error`} class="field-error">
        {errors[key]}
      </p>
    ) : null;

  return (
    <form class="form form-plain" method="post" noValidate onSubmit={onSubmit}>
      {rows.length === 0 ? (
        <p>{t('rules.none')}</p>
      ) : (
        <ol class="editor-list rules-list" id="rules-rules" tabIndex={-1}>
          {rows.map((row, index) => {
            const id = (f: string) => `rule-${row.key}-${f}`;
            const k = (f: RuleField) => `${row.key}.${f}`;
            const label = row.name.trim() || t('rules.item', { n: index + 1 });
            return (
              <li key={row.key} class="rule">
                <fieldset>
                  <legend>{t('rules.legend', { n: index + 1, name: row.name.trim() })}</legend>
                  <div class="field-row">
                    <div class="field">
                      <label for={id('name')}>{t('rules.name')}</label>
                      <input
                        id={id('name')}
                        type="text"
                        maxLength={100}
                        value={row.name}
                        aria-invalid={errors[k('name')] ? 'true' : undefined}
                        aria-describedby={describe(id('name'), k('name'))}
                        onInput={(e) => update(row.key, { name: e.currentTarget.value })}
                      />
                      {fieldError(id('name'), k('name'))}
                    </div>
                    <div class="field">
                      <label for={id('action')}>{t('rules.action')}</label>
                      <select
                        id={id('action')}
                        value={row.action}
                        aria-invalid={errors[k('action')] ? 'true' : undefined}
                        aria-describedby={describe(id('action'), k('action'))}
                        onChange={(e) => update(row.key, { action: e.currentTarget.value as RuleAction })}
                      >
                        {RULE_ACTIONS.map((a) => (
                          <option key={a} value={a}>
                            {t(`ruleAction.${a}` as const)}
                          </option>
                        ))}
                      </select>
                      {fieldError(id('action'), k('action'))}
                    </div>
                  </div>
                  <div class="field-row">
                    <div class="field">
                      <label for={id('tags')}>{t('rules.tags')}</label>
                      <p id={`${id('tags')}-hint`} class="field-hint">
                        {t('rules.tagsHint')}
                      </p>
                      <input
                        id={id('tags')}
                        type="text"
                        spellcheck={false}
                        autoCapitalize="none"
                        value={row.tags}
                        aria-invalid={errors[k('tags')] ? 'true' : undefined}
                        aria-describedby={describe(id('tags'), k('tags'), true)}
                        onInput={(e) => update(row.key, { tags: e.currentTarget.value })}
                      />
                      {fieldError(id('tags'), k('tags'))}
                    </div>
                    <div class="field">
                      <label for={id('keywords')}>{t('rules.keywords')}</label>
                      <p id={`${id('keywords')}-hint`} class="field-hint">
                        {t('rules.keywordsHint')}
                      </p>
                      <input
                        id={id('keywords')}
                        type="text"
                        value={row.keywords}
                        aria-invalid={errors[k('keywords')] ? 'true' : undefined}
                        aria-describedby={describe(id('keywords'), k('keywords'), true)}
                        onInput={(e) => update(row.key, { keywords: e.currentTarget.value })}
                      />
                      {fieldError(id('keywords'), k('keywords'))}
                    </div>
                  </div>
                  <div class="field-row">
                    <fieldset class="field choices-inline" id={id('languages')} tabIndex={-1} aria-describedby={describe(id('languages'), k('languages'), true)}>
                      <legend>{t('rules.languages')}</legend>
                      <p id={`${id('languages')}-hint`} class="field-hint">
                        {t('rules.languagesHint')}
                      </p>
                      <span class="inline-controls">
                        {LANGUAGES.map((code) => (
                          <span key={code} class="choice">
                            <input
                              type="checkbox"
                              id={id(`lang-${code}`)}
                              checked={row.languages.includes(code)}
                              onChange={(e) =>
                                update(row.key, {
                                  languages: e.currentTarget.checked
                                    ? [...row.languages.filter((l) => l !== code), code]
                                    : row.languages.filter((l) => l !== code),
                                })
                              }
                            />
                            <label for={id(`lang-${code}`)}>{t(`language.${code}` as const)}</label>
                          </span>
                        ))}
                      </span>
                      {fieldError(id('languages'), k('languages'))}
                    </fieldset>
                    <div class="field">
                      <label for={id('topic')}>{t('rules.topic')}</label>
                      <p id={`${id('topic')}-hint`} class="field-hint">
                        {t('rules.topicHint')}
                      </p>
                      <input
                        id={id('topic')}
                        type="text"
                        maxLength={48}
                        spellcheck={false}
                        autoCapitalize="none"
                        value={row.topic}
                        aria-invalid={errors[k('topic')] ? 'true' : undefined}
                        aria-describedby={describe(id('topic'), k('topic'), true)}
                        onInput={(e) => update(row.key, { topic: e.currentTarget.value })}
                      />
                      {fieldError(id('topic'), k('topic'))}
                    </div>
                  </div>
                  {row.action === 'escalate' && (
                    <div class="field rule-owner">
                      {row.owner ? <OwnerName owner={row.owner} /> : <p class="picked">{t('rules.noOwner')}</p>}
                      <PersonPicker
                        id={id('owner_user_id')}
                        label={t('rules.owner')}
                        hint={t('rules.ownerHint')}
                        actionText={t('rules.chooseOwner')}
                        actionLabel={(p) => t('rules.chooseOwnerLabel', { name: p.display_name, rule: label })}
                        error={errors[k('owner_user_id')] || undefined}
                        onPick={(p) => {
                          update(row.key, { owner: { id: p.id, display_name: p.display_name } });
                          setErrors((e) => ({ ...e, [k('owner_user_id')]: '' }));
                        }}
                      />
                    </div>
                  )}
                  {row.action === 'refuse' && (
                    <div class="field">
                      <label for={id('canned_reply')}>{t('rules.cannedReply')}</label>
                      <p id={`${id('canned_reply')}-hint`} class="field-hint">
                        {t('rules.cannedReplyHint')}
                      </p>
                      <textarea
                        id={id('canned_reply')}
                        rows={3}
                        maxLength={4000}
                        value={row.canned_reply}
                        aria-invalid={errors[k('canned_reply')] ? 'true' : undefined}
                        aria-describedby={describe(id('canned_reply'), k('canned_reply'), true)}
                        onInput={(e) => update(row.key, { canned_reply: e.currentTarget.value })}
                      />
                      {fieldError(id('canned_reply'), k('canned_reply'))}
                    </div>
                  )}
                  <div class="actions rule-actions">
                    <button
                      type="button"
                      id={id('up')}
                      class="button button-secondary button-small"
                      aria-label={t('rules.moveUp', { name: label })}
                      aria-disabled={index === 0 ? 'true' : undefined}
                      onClick={() => move(index, -1)}
                    >
                      {t('rules.up')}
                    </button>
                    <button
                      type="button"
                      id={id('down')}
                      class="button button-secondary button-small"
                      aria-label={t('rules.moveDown', { name: label })}
                      aria-disabled={index === rows.length - 1 ? 'true' : undefined}
                      onClick={() => move(index, 1)}
                    >
                      {t('rules.down')}
                    </button>
                    <button
                      type="button"
                      class="button button-secondary button-small"
                      aria-label={t('rules.remove', { name: label })}
                      onClick={() => remove(index)}
                    >
                      {t('common.remove')}
                    </button>
                  </div>
                </fieldset>
              </li>
            );
          })}
        </ol>
      )}
      <div class="actions">
        <button
          type="button"
          id="rules-add"
          class="button button-secondary"
          aria-disabled={rows.length >= MAX_RULES ? 'true' : undefined}
          onClick={add}
        >
          {t('rules.add')}
        </button>
        <SubmitButton busy={busy} label={t('rules.save')} />
      </div>
      <FormError message={form.fieldErrors.rules ?? form.formError} />
      <Status message={status} />
    </form>
  );
}

/** Topics in crisis mode: set one with a reason, end one. */
function CrisisTopics({
  communityId,
  topics,
  onChange,
}: {
  communityId: string;
  topics: readonly CrisisTopic[];
  onChange: () => void;
}) {
  const { t, lang } = useI18n();
  const [topic, setTopic] = useState('');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const [rowError, setRowError] = useState<string | null>(null);
  const form = useFormErrors<'topic' | 'reason'>('crisis', ['topic', 'reason']);

  const onSubmit = async (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    const name = topic.trim().toLowerCase();
    const errors: Partial<Record<'topic' | 'reason', string>> = {};
    if (!TAG_PATTERN.test(name)) errors.topic = t(name ? 'crisis.topicInvalid' : 'form.required');
    if (reason.trim() === '') errors.reason = t('form.required');
    if (form.check(errors, ['topic', 'reason'])) return;
    setBusy(true);
    setStatus(null);
    try {
      await apiFetch(`/communities/${communityId}/crisis/${encodeURIComponent(name)}`, {
        method: 'PUT',
        body: { reason: reason.trim() },
      });
      form.clear();
      setTopic('');
      setReason('');
      setStatus(t('crisis.set', { topic: name }));
      onChange();
    } catch (err) {
      form.fail(err);
    } finally {
      setBusy(false);
    }
  };

  const clear = async (name: string) => {
    setRowError(null);
    setStatus(null);
    try {
      await apiFetch(`/communities/${communityId}/crisis/${encodeURIComponent(name)}`, { method: 'DELETE' });
      setStatus(t('crisis.cleared', { topic: name }));
      onChange();
    } catch (err) {
      setRowError(errorText(err, t));
    }
  };

  return (
    <div class="crisis">
      <h3 id="crisis-heading">{t('crisis.title')}</h3>
      <p class="muted small">{t('crisis.intro')}</p>
      {topics.length === 0 ? (
        <p>{t('crisis.none')}</p>
      ) : (
        <ul class="rows" aria-labelledby="crisis-heading">
          {topics.map((c) => (
            <li key={c.topic} class="row">
              <span class="row-main">
                <span class="badge badge-crisis">{c.topic}</span> {c.reason}
                {c.since && <span class="muted small"> — {t('crisis.since', { date: formatDateTime(c.since, lang) })}</span>}
              </span>
              <button
                type="button"
                class="button button-secondary button-small"
                aria-label={t('crisis.endLabel', { topic: c.topic })}
                onClick={() => void clear(c.topic)}
              >
                {t('crisis.end')}
              </button>
            </li>
          ))}
        </ul>
      )}
      {rowError && (
        <p class="form-error" role="alert">
          {rowError}
        </p>
      )}
      <form class="form form-plain" method="post" noValidate onSubmit={onSubmit}>
        <div class="field-row">
          <TextField
            id="crisis-topic"
            label={t('crisis.topic')}
            hint={t('crisis.topicHint')}
            maxLength={48}
            spellcheck={false}
            autoCapitalize="none"
            value={topic}
            onValue={setTopic}
            error={form.fieldErrors.topic}
          />
          <TextField
            id="crisis-reason"
            label={t('crisis.reason')}
            maxLength={500}
            value={reason}
            onValue={setReason}
            error={form.fieldErrors.reason}
            className="field-grow"
          />
        </div>
        <FormError message={form.formError} />
        <SubmitButton busy={busy} label={t('crisis.submit')} />
        <Status message={status} />
      </form>
    </div>
  );
}
