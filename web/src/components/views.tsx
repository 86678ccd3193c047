import { useLayoutEffect } from 'preact/hooks';
import { ApiError } from '../api';
import { useI18n } from '../i18n';
import { errorText } from '../errors';

/**
 * Sets the document title: "<title> — Relais", or "Relais" alone for null. `false` leaves
 * it to a view rendered instead of the page (forbidden, not found).
 */
export function useTitle(title: string | null | false): void {
  const { t } = useI18n();
  // A layout effect: the title changes with the page's content, not a frame later.
  useLayoutEffect(() => {
    if (title === false) return;
    document.title = title ? `${title} — ${t('app.name')}` : t('app.name');
  }, [title, t]);
}

export function Loading() {
  const { t } = useI18n();
  return (
    <p class="loading" role="status">
      {t('common.loading')}
    </p>
  );
}

/** The view for a page the API refused with 403: "you may not open this page". */
export function ForbiddenView() {
  const { t } = useI18n();
  useTitle(t('forbidden.title'));
  return (
    <section class="page" data-page="forbidden">
      <h1 tabIndex={-1}>{t('forbidden.title')}</h1>
      <p>{t('forbidden.body')}</p>
      <p>
        <a href="/">{t('notfound.home')}</a>
      </p>
    </section>
  );
}

/** An object (person, community) that does not exist or that the caller may not see. */
export function MissingView({ message }: { message: string }) {
  const { t } = useI18n();
  useTitle(t('notfound.title'));
  return (
    <section class="page" data-page="notfound">
      <h1 tabIndex={-1}>{t('notfound.title')}</h1>
      <p>{message}</p>
      <p>
        <a href="/">{t('notfound.home')}</a>
      </p>
    </section>
  );
}

/** A failed load: the error in words and a "Try again" button. */
export function LoadError({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useI18n();
  return (
    <div class="alert" role="alert">
      <p>{errorText(error, t)}</p>
      {onRetry && (
        <button type="button" class="button button-secondary" onClick={onRetry}>
          {t('common.retry')}
        </button>
      )}
    </div>
  );
}

/**
 * The view that replaces a whole page when its load failed with 403 (the "you may not
 * open this page" view) or 404 (the missing view, when `missing` is given); otherwise null,
 * and the page shows the error itself (LoadError).
 */
export function gateView(error: unknown, missing?: string) {
  if (error instanceof ApiError && error.status === 403 && error.code === 'forbidden') return <ForbiddenView />;
  if (error instanceof ApiError && error.status === 404 && missing !== undefined) return <MissingView message={missing} />;
  return null;
}
