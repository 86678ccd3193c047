import { useI18n } from '../i18n';
import { useTitle } from '../components/views';

export type Section = 'questions';

/** A section whose feature is not built yet: its title, what it will be, and "coming soon". */
export function PlaceholderPage({ section }: { section: Section }) {
  const { t } = useI18n();
  useTitle(t(`${section}.title` as const));
  return (
    <section class="page" data-page={section}>
      <h1 tabIndex={-1}>{t(`${section}.title` as const)}</h1>
      <p class="lead">{t(`${section}.intro` as const)}</p>
      <p class="notice">{t('page.soon')}</p>
    </section>
  );
}
