import { useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { apiFetch } from '../api';
import { useI18n } from '../i18n';
import { navigate } from '../router';
import { useSession } from '../session';
import { parseList, slugify } from '../format';
import { TAG_PATTERN, VISIBILITIES, type Community, type Person, type Visibility } from '../types';
import { FormError, SubmitButton, TextAreaField, TextField, focusLater, useFormErrors } from '../components/forms';
import { PersonPicker } from '../components/personpicker';
import { ForbiddenView, useTitle } from '../components/views';

const FIELDS = ['name', 'slug', 'description', 'visibility', 'topics', 'manager_id'] as const;
type Field = (typeof FIELDS)[number];

const SLUG = /^[a-z0-9][a-z0-9-]{1,47}$/;

/** /communities/new (admins and comms): POST /api/v1/communities, then its page. */
export function CommunityNewPage() {
  const { t } = useI18n();
  const { user } = useSession();
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [slugEdited, setSlugEdited] = useState(false);
  const [description, setDescription] = useState('');
  const [visibility, setVisibility] = useState<Visibility>('open');
  const [topics, setTopics] = useState('');
  const [manager, setManager] = useState<Pick<Person, 'id' | 'display_name'> | null>(null);
  const [busy, setBusy] = useState(false);
  const form = useFormErrors<Field>('community', FIELDS);
  // The API decides (POST answers 403 to others), but there is nothing to fill in for them.
  const allowed = user?.role === 'admin' || user?.role === 'comms';
  useTitle(allowed ? t('communityNew.title') : false);
  if (!allowed) return <ForbiddenView />;

  const onSubmit = async (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    const tags = parseList(topics);
    const errors: Partial<Record<Field, string>> = {};
    if (name.trim() === '') errors.name = t('form.required');
    else if (name.trim().length > 100) errors.name = t('form.tooLong');
    if (!SLUG.test(slug)) errors.slug = t('communityNew.slugInvalid');
    if (description.length > 2000) errors.description = t('form.tooLong');
    if (tags.some((tag) => !TAG_PATTERN.test(tag))) errors.topics = t('communityNew.topicsInvalid');
    else if (tags.length > 50) errors.topics = t('communityNew.topicsTooMany');
    if (form.check(errors, FIELDS)) return;
    setBusy(true);
    try {
      const created = await apiFetch<Community>('/communities', {
        method: 'POST',
        body: {
          slug,
          name: name.trim(),
          description: description.trim(),
          visibility,
          topics: tags,
          ...(manager ? { manager_id: manager.id } : {}),
        },
      });
      navigate(`/communities/${created.id}`);
    } catch (err) {
      setBusy(false);
      form.fail(err);
    }
  };

  return (
    <section class="page page-medium" data-page="community-new">
      <p class="breadcrumb">
        <a href="/communities">{t('community.back')}</a>
      </p>
      <h1 tabIndex={-1}>{t('communityNew.title')}</h1>
      <p class="lead">{t('communityNew.intro')}</p>
      <form class="form" method="post" noValidate onSubmit={onSubmit}>
        <TextField
          id="community-name"
          label={t('communityNew.name')}
          required
          maxLength={100}
          value={name}
          onValue={(v) => {
            setName(v);
            if (!slugEdited) setSlug(slugify(v));
          }}
          error={form.fieldErrors.name}
        />
        <TextField
          id="community-slug"
          label={t('communityNew.slug')}
          hint={t('communityNew.slugHint')}
          required
          maxLength={48}
          spellcheck={false}
          autoCapitalize="none"
          value={slug}
          onValue={(v) => {
            setSlug(v.toLowerCase());
            setSlugEdited(true);
          }}
          error={form.fieldErrors.slug}
        />
        <TextAreaField
          id="community-description"
          label={t('communityNew.description')}
          rows={4}
          maxLength={2000}
          value={description}
          onValue={setDescription}
          error={form.fieldErrors.description}
        />
        <fieldset class="choices" id="community-visibility" tabIndex={-1}>
          <legend>{t('communityNew.visibility')}</legend>
          {VISIBILITIES.map((v) => (
            <div key={v} class="choice">
              <input
                type="radio"
                id={`community-visibility-${v}`}
                name="visibility"
                value={v}
                checked={visibility === v}
                aria-describedby={`community-visibility-${v}-hint`}
                onChange={() => setVisibility(v)}
              />
              <label for={`community-visibility-${v}`}>{t(`visibility.${v}` as const)}</label>
              <p id={`community-visibility-${v}-hint`} class="field-hint">
                {t(`visibility.${v}Hint` as const)}
              </p>
            </div>
          ))}
          {form.fieldErrors.visibility && <p class="field-error">{form.fieldErrors.visibility}</p>}
        </fieldset>
        <TextField
          id="community-topics"
          label={t('communityNew.topics')}
          hint={t('communityNew.topicsHint')}
          spellcheck={false}
          autoCapitalize="none"
          value={topics}
          onValue={setTopics}
          error={form.fieldErrors.topics}
        />
        <fieldset class="choices" id="community-manager_id" tabIndex={-1}>
          <legend>{t('communityNew.manager')}</legend>
          <p class="picked" role="status">
            {manager ? t('communityNew.managerIs', { name: manager.display_name }) : t('communityNew.managerMe')}
          </p>
          {manager && (
            <button
              type="button"
              class="button button-secondary button-small"
              onClick={() => {
                setManager(null);
                focusLater('community-manager-search');
              }}
            >
              {t('communityNew.managerUseMe')}
            </button>
          )}
          <PersonPicker
            id="community-manager-search"
            label={t('communityNew.managerSearch')}
            hint={t('communityNew.managerHint')}
            actionText={t('communityNew.choose')}
            actionLabel={(p) => t('communityNew.chooseLabel', { name: p.display_name })}
            onPick={(p) => setManager({ id: p.id, display_name: p.display_name })}
          />
          {form.fieldErrors.manager_id && <p class="field-error">{form.fieldErrors.manager_id}</p>}
        </fieldset>
        <FormError message={form.formError} />
        <SubmitButton busy={busy} label={t('communityNew.submit')} />
      </form>
    </section>
  );
}
