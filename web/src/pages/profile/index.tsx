import { useState } from 'preact/hooks';
import { useI18n } from '../../i18n';
import { useApi } from '../../hooks';
import type { Me } from '../../types';
import { LoadError, Loading, useTitle } from '../../components/views';
import { DetailsSection } from './details';
import { ExpertiseSection } from './expertise';
import { AvailabilitySection } from './availability';
import { AwaySection } from './away';
import { PasswordSection } from './password';
import { SessionsSection } from './sessions';

/** /me: one's own profile, expertise, availability, time away, password and sessions. */
export function ProfilePage() {
  const { t } = useI18n();
  const me = useApi<Me>('/me');
  const [sessionsVersion, setSessionsVersion] = useState(0);
  useTitle(t('me.title'));

  return (
    <section class="page" data-page="me">
      <h1 tabIndex={-1}>{t('me.title')}</h1>
      <p class="lead">{t('me.intro')}</p>
      {me.error ? (
        <LoadError error={me.error} onRetry={me.reload} />
      ) : !me.data ? (
        <Loading />
      ) : (
        <>
          <nav class="toc" aria-label={t('me.sections')}>
            <ul>
              <li><a href="#profile">{t('me.details')}</a></li>
              <li><a href="#expertise">{t('expertise.title')}</a></li>
              <li><a href="#availability">{t('availability.title')}</a></li>
              <li><a href="#away">{t('away.title')}</a></li>
              <li><a href="#password">{t('password.title')}</a></li>
              <li><a href="#sessions">{t('sessions.title')}</a></li>
            </ul>
          </nav>
          <DetailsSection me={me.data} />
          <ExpertiseSection initial={me.data.expertise} />
          <AvailabilitySection me={me.data} />
          <AwaySection initial={me.data.out_of_office} />
          <PasswordSection onChanged={() => setSessionsVersion((n) => n + 1)} />
          <SessionsSection version={sessionsVersion} />
        </>
      )}
    </section>
  );
}
