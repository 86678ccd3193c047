import { useI18n } from '../i18n';
import { useTitle } from '../components/views';

export function NotFoundPage({ path }: { path: string }) {
  const { t } = useI18n();
  useTitle(t('notfound.title'));
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
