import { useEffect, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { query } from '../api';
import { useI18n } from '../i18n';
import { navigate, useSearch } from '../router';
import { usePagedList } from '../hooks';
import { languageName } from '../format';
import type { Person } from '../types';
import { ExpertiseChips } from '../components/chips';
import { LoadError, useTitle } from '../components/views';

const PAGE_SIZE = 20;

/**
 * /people?q=&department=&expertise=: the directory. The filters live in the address, so a
 * search can be shared, reloaded and gone back to.
 */
export function PeoplePage() {
  const { t, lang } = useI18n();
  const search = useSearch();
  const params = new URLSearchParams(search);
  const filters = {
    q: params.get('q') ?? '',
    department: params.get('department') ?? '',
    expertise: params.get('expertise') ?? '',
  };
  const [q, setQ] = useState(filters.q);
  const [department, setDepartment] = useState(filters.department);
  const [expertise, setExpertise] = useState(filters.expertise);
  useTitle(t('people.title'));

  // Back and forward change the address: show its filters in the form.
  useEffect(() => {
    setQ(filters.q);
    setDepartment(filters.department);
    setExpertise(filters.expertise);
  }, [search]);

  const list = usePagedList<Person>(`/people${query({ ...filters, limit: PAGE_SIZE })}`);
  const filtered = Boolean(filters.q || filters.department || filters.expertise);

  const onSubmit = (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const next = query({
      q: q.trim(),
      department: department.trim(),
      expertise: expertise.trim().toLowerCase(),
    });
    navigate(`/people${next}`, { keepScroll: true });
  };

  const clear = () => navigate('/people', { keepScroll: true });

  return (
    <section class="page" data-page="people">
      <h1 tabIndex={-1}>{t('people.title')}</h1>
      <p class="lead">{t('people.intro')}</p>
      <form class="form search-form" role="search" aria-label={t('people.searchLabel')} onSubmit={onSubmit}>
        <div class="field field-grow">
          <label for="people-q">{t('people.q')}</label>
          <input
            id="people-q"
            type="search"
            value={q}
            maxLength={200}
            aria-describedby="people-q-hint"
            onInput={(e) => setQ(e.currentTarget.value)}
          />
          <p id="people-q-hint" class="field-hint">
            {t('people.qHint')}
          </p>
        </div>
        <div class="field-row">
          <div class="field">
            <label for="people-department">{t('people.department')}</label>
            <input
              id="people-department"
              type="text"
              value={department}
              maxLength={100}
              onInput={(e) => setDepartment(e.currentTarget.value)}
            />
          </div>
          <div class="field">
            <label for="people-expertise">{t('people.expertise')}</label>
            <input
              id="people-expertise"
              type="text"
              value={expertise}
              maxLength={48}
              spellcheck={false}
              autoCapitalize="none"
              onInput={(e) => setExpertise(e.currentTarget.value)}
            />
          </div>
        </div>
        <div class="actions">
          <button type="submit" class="button">
            {t('people.search')}
          </button>
          {filtered && (
            <button type="button" class="button button-secondary" onClick={clear}>
              {t('people.clear')}
            </button>
          )}
        </div>
      </form>

      <p class="result-count" role="status">
        {list.loading && list.items.length === 0
          ? t('common.loading')
          : list.error
            ? ''
            : list.items.length === 0
              ? t('people.none')
              : t(list.more ? 'people.countMore' : 'people.count', { count: list.items.length })}
      </p>
      {list.error !== null && <LoadError error={list.error} onRetry={list.reload} />}
      <ul class="cards" aria-label={t('people.results')}>
        {list.items.map((person) => (
          <li key={person.id} class="card person-card">
            <h2 class="card-title">
              <a href={`/people/${person.id}`}>{person.display_name}</a>
            </h2>
            {(person.job_title || person.department) && (
              <p class="muted">{[person.job_title, person.department].filter(Boolean).join(' · ')}</p>
            )}
            {person.languages.length > 0 && (
              <p class="small">
                {t('people.speaks', { languages: person.languages.map((c) => languageName(c, lang)).join(', ') })}
              </p>
            )}
            <ExpertiseChips items={person.expertise} label={t('people.expertiseOf', { name: person.display_name })} />
          </li>
        ))}
      </ul>
      {list.more && (
        <button
          type="button"
          class="button button-secondary more"
          aria-disabled={list.loading ? 'true' : undefined}
          onClick={list.loadMore}
        >
          {list.loading ? t('common.loading') : t('people.more')}
        </button>
      )}
    </section>
  );
}
