import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { apiFetch } from '../../api';
import { LANGS, LANG_NAMES, useI18n, type Lang, type MessageKey } from '../../i18n';
import { useSession } from '../../session';
import { parseList } from '../../format';
import type { Me, OwnProfile } from '../../types';
import { FormError, SelectField, Status, SubmitButton, TextField, useFormErrors } from '../../components/forms';

const FIELDS = ['display_name', 'department', 'job_title', 'languages', 'locale', 'time_zone'] as const;
type Field = (typeof FIELDS)[number];

const LANGUAGE_CODE = /^[a-z]{2}$/;

/** Time zones the browser knows, for the time zone field's suggestions. */
function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  try {
    return intl.supportedValuesOf?.('timeZone') ?? [];
  } catch {
    return [];
  }
}

/** Name, department, job title, languages, UI language and time zone: PATCH /api/v1/me. */
export function DetailsSection({ me }: { me: Me }) {
  const { t, lang, setLang } = useI18n();
  const session = useSession();
  const [displayName, setDisplayName] = useState(me.display_name);
  const [department, setDepartment] = useState(me.department);
  const [jobTitle, setJobTitle] = useState(me.job_title);
  const [languages, setLanguages] = useState(me.languages.join(', '));
  const [locale, setLocale] = useState<Lang>(me.locale);
  const [timeZone, setTimeZone] = useState(me.time_zone);
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<MessageKey | null>(null);
  const form = useFormErrors<Field>('profile', FIELDS);
  const zones = useMemo(timeZones, []);

  // The header's language switch saves the locale too: keep this form in step with it
  // (from the first change on; at first the form shows what the profile says).
  const firstLang = useRef(true);
  useEffect(() => {
    if (firstLang.current) firstLang.current = false;
    else setLocale(lang);
  }, [lang]);

  const onSubmit = async (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    setStatus(null);
    const codes = parseList(languages);
    const errors: Partial<Record<Field, string>> = {};
    if (displayName.trim() === '') errors.display_name = t('form.required');
    else if (displayName.trim().length > 100) errors.display_name = t('form.tooLong');
    if (department.trim().length > 100) errors.department = t('form.tooLong');
    if (jobTitle.trim().length > 100) errors.job_title = t('form.tooLong');
    if (codes.some((c) => !LANGUAGE_CODE.test(c))) errors.languages = t('profile.languagesInvalid');
    else if (codes.length > 20) errors.languages = t('profile.languagesTooMany');
    if (timeZone.trim() === '') errors.time_zone = t('form.required');
    if (form.check(errors, FIELDS)) return;
    setBusy(true);
    try {
      const saved = await apiFetch<OwnProfile>('/me', {
        method: 'PATCH',
        body: {
          display_name: displayName.trim(),
          department: department.trim(),
          job_title: jobTitle.trim(),
          languages: codes,
          locale,
          time_zone: timeZone.trim(),
        },
      });
      form.clear();
      setDisplayName(saved.display_name);
      setDepartment(saved.department);
      setJobTitle(saved.job_title);
      setLanguages(saved.languages.join(', '));
      setTimeZone(saved.time_zone);
      session.updateUser({ display_name: saved.display_name, locale: saved.locale });
      if (saved.locale !== lang) setLang(saved.locale);
      setStatus('profile.saved');
    } catch (err) {
      form.fail(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card" id="profile" aria-labelledby="profile-heading">
      <h2 id="profile-heading">{t('me.details')}</h2>
      <form class="form form-plain" method="post" noValidate onSubmit={onSubmit}>
        <TextField
          id="profile-display_name"
          label={t('profile.displayName')}
          autoComplete="name"
          required
          maxLength={100}
          value={displayName}
          onValue={setDisplayName}
          error={form.fieldErrors.display_name}
        />
        <div class="field-row">
          <TextField
            id="profile-department"
            label={t('profile.department')}
            autoComplete="organization"
            maxLength={100}
            value={department}
            onValue={setDepartment}
            error={form.fieldErrors.department}
          />
          <TextField
            id="profile-job_title"
            label={t('profile.jobTitle')}
            autoComplete="organization-title"
            maxLength={100}
            value={jobTitle}
            onValue={setJobTitle}
            error={form.fieldErrors.job_title}
          />
        </div>
        <TextField
          id="profile-languages"
          label={t('profile.languages')}
          hint={t('profile.languagesHint')}
          spellcheck={false}
          autoCapitalize="none"
          value={languages}
          onValue={setLanguages}
          error={form.fieldErrors.languages}
        />
        <div class="field-row">
          <SelectField<Lang>
            id="profile-locale"
            label={t('profile.locale')}
            hint={t('profile.localeHint')}
            value={locale}
            onValue={setLocale}
            options={LANGS.map((code) => ({ value: code, label: LANG_NAMES[code], lang: code }))}
            error={form.fieldErrors.locale}
          />
          <TextField
            id="profile-time_zone"
            label={t('profile.timeZone')}
            hint={t('profile.timeZoneHint')}
            list={zones.length ? 'profile-time-zones' : undefined}
            spellcheck={false}
            autoCapitalize="none"
            required
            maxLength={64}
            value={timeZone}
            onValue={setTimeZone}
            error={form.fieldErrors.time_zone}
          />
          {zones.length > 0 && (
            <datalist id="profile-time-zones">
              {zones.map((z) => (
                <option key={z} value={z} />
              ))}
            </datalist>
          )}
        </div>
        <FormError message={form.formError} />
        <SubmitButton busy={busy} label={t('profile.save')} />
        <Status message={status ? t(status) : null} />
      </form>
    </section>
  );
}
