import { useI18n } from '../i18n';
import { useSession } from '../session';
import { useTitle } from '../components/views';

export function HomePage() {
  const { t } = useI18n();
  const { status, user } = useSession();
  useTitle(null);
  return (
    <section class="page" data-page="home">
      <h1 tabIndex={-1}>{t('home.title')}</h1>
      <p class="lead">{t('home.intro')}</p>
      {status === 'signed-in' && user ? (
        <>
          <p>{t('home.hello', { name: user.display_name })}</p>
          <ul class="cards cards-links">
            <li class="card">
              <h2 class="card-title">
                <a href="/people">{t('people.title')}</a>
              </h2>
              <p class="muted">{t('people.intro')}</p>
            </li>
            <li class="card">
              <h2 class="card-title">
                <a href="/communities">{t('communities.title')}</a>
              </h2>
              <p class="muted">{t('communities.intro')}</p>
            </li>
            <li class="card">
              <h2 class="card-title">
                <a href="/me">{t('me.title')}</a>
              </h2>
              <p class="muted">{t('home.profileIntro')}</p>
            </li>
          </ul>
        </>
      ) : status === 'signed-out' ? (
        <p class="notice">
          <a href="/signin">{t('home.signIn')}</a>
        </p>
      ) : null}
    </section>
  );
}
