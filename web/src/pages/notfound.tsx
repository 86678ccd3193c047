import { useI18n } from '../i18n';

export function NotFoundPage({ path }: { path: string }) {
  const { t } = useI18n();
  return (
    <section class="page" data-page="notfound">
      <h1 tabIndex={-1}>{t('notfound.title')}</h1>
      <p>{t('notfound.body', { path })}</p>
      <p>
        <a href="/">{t('notfound.home')}</a>
      </p>
    </section>
  );
}
