import { useI18n } from '../i18n';

export type Section = 'questions' | 'communities' | 'people';

/** A section whose feature is not built yet: its title, what it will be, and "coming soon". */
export function PlaceholderPage({ section }: { section: Section }) {
  const { t } = useI18n();
  return (
    <section class="page" data-page={section}>
      <h1 tabIndex={-1}>{t(`${section}.title` as const)}</h1>
      <p class="lead">{t(`${section}.intro` as const)}</p>
      <p class="notice">{t('page.soon')}</p>
    </section>
  );
}
