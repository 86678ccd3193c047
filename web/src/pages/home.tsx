import { useI18n } from '../i18n';

export function HomePage() {
  const { t } = useI18n();
  return (
    <section class="page" data-page="home">
      <h1 tabIndex={-1}>{t('home.title')}</h1>
      <p class="lead">{t('home.intro')}</p>
      <p class="notice">{t('page.soon')}</p>
    </section>
  );
}
