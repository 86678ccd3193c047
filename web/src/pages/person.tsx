import { useI18n } from '../i18n';
import { useApi } from '../hooks';
import { formatDateTime, languageName } from '../format';
import type { PersonProfile } from '../types';
import { ExpertiseChips } from '../components/chips';
import { LoadError, Loading, gateView, useTitle } from '../components/views';

/** /people/:id: a person's profile (GET /api/v1/people/{id}). */
export function PersonPage({ id }: { id: string }) {
  const { t, lang } = useI18n();
  const person = useApi<PersonProfile>(`/people/${id}`);
  const p = person.data;
  const gate = gateView(person.error, t('person.missing'));
  useTitle(gate ? false : (p?.display_name ?? t('person.title')));
  if (gate) return gate;

  return (
    <section class="page" data-page="person">
      <p class="breadcrumb">
        <a href="/people">{t('person.back')}</a>
      </p>
      <h1 tabIndex={-1}>{p?.display_name ?? t('person.title')}</h1>
      {person.error ? (
        <LoadError error={person.error} onRetry={person.reload} />
      ) : !p ? (
        <Loading />
      ) : (
        <>
          {(p.job_title || p.department) && (
            <p class="lead">{[p.job_title, p.department].filter(Boolean).join(' · ')}</p>
          )}
          {p.status === 'disabled' && <p class="notice">{t('person.disabled')}</p>}
          {p.away_until && (
            <p class="notice">{t('person.awayUntil', { date: formatDateTime(p.away_until, lang) })}</p>
          )}
          <dl class="facts">
            <dt>{t('person.email')}</dt>
            <dd>
              <a href={`mailto:${p.email}`} rel="external">
                {p.email}
              </a>
            </dd>
            <dt>{t('profile.timeZone')}</dt>
            <dd>{p.time_zone}</dd>
            <dt>{t('profile.languages')}</dt>
            <dd>{p.languages.length ? p.languages.map((c) => languageName(c, lang)).join(', ') : '—'}</dd>
          </dl>
          <h2>{t('expertise.title')}</h2>
          {p.expertise.length ? (
            <ExpertiseChips items={p.expertise} label={t('people.expertiseOf', { name: p.display_name })} />
          ) : (
            <p class="muted">{t('person.noExpertise')}</p>
          )}
          <h2>{t('communities.title')}</h2>
          {p.communities.length ? (
            <ul class="plain-list">
              {p.communities.map((c) => (
                <li key={c.id}>
                  <a href={`/communities/${c.id}`}>{c.name}</a>{' '}
                  <span class="badge">{t(`role.${c.role}` as const)}</span>
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">{t('person.noCommunities')}</p>
          )}
        </>
      )}
    </section>
  );
}
