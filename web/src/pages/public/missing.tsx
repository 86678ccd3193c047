import { useI18n } from '../../i18n';
import { useTitle } from '../../components/views';

/** A public link that leads nowhere (unknown form, unknown or expired follow link). */
export function PublicMissing({ message }: { message: string }) {
  const { t } = useI18n();
  useTitle(t('public.missingTitle'));
  return (
    <section class="page page-medium" data-page="notfound">
      <h1 tabIndex={-1}>{t('public.missingTitle')}</h1>
      <p>{message}</p>
    </section>
  );
}
