import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { I18nContext, LANGS, LANG_NAMES, initialLang, saveLang, translate, useI18n } from './i18n';
import type { I18n, Lang, MessageKey } from './i18n';
import { interceptLinks, matchRoute, usePath, type Route } from './router';
import { HomePage } from './pages/home';
import { NotFoundPage } from './pages/notfound';
import { PlaceholderPage } from './pages/placeholder';
import { SignInPage } from './pages/signin';

const NAV: ReadonlyArray<{ href: string; label: MessageKey }> = [
  { href: '/', label: 'nav.home' },
  { href: '/questions', label: 'nav.questions' },
  { href: '/communities', label: 'nav.communities' },
  { href: '/people', label: 'nav.people' },
];

const TITLES: Readonly<Record<Route, MessageKey | null>> = {
  home: null,
  signin: 'signin.title',
  questions: 'questions.title',
  communities: 'communities.title',
  people: 'people.title',
  notfound: 'notfound.title',
};

function Page({ route, path }: { route: Route; path: string }) {
  switch (route) {
    case 'home':
      return <HomePage />;
    case 'signin':
      return <SignInPage />;
    case 'questions':
    case 'communities':
    case 'people':
      return <PlaceholderPage section={route} />;
    case 'notfound':
      return <NotFoundPage path={path} />;
  }
}

function LanguageSwitch() {
  const { lang, setLang, t } = useI18n();
  return (
    <div class="lang-switch">
      <label for="lang-select">{t('lang.label')}</label>
      <select
        id="lang-select"
        value={lang}
        onChange={(e) => setLang(e.currentTarget.value as Lang)}
      >
        {LANGS.map((code) => (
          <option key={code} value={code} lang={code}>
            {LANG_NAMES[code]}
          </option>
        ))}
      </select>
    </div>
  );
}

export function App() {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const path = usePath();
  const route = matchRoute(path);
  const rootRef = useRef<HTMLDivElement>(null);
  const mainRef = useRef<HTMLElement>(null);
  const firstRender = useRef(true);

  const i18n = useMemo<I18n>(
    () => ({
      lang,
      setLang: (next) => {
        saveLang(next);
        setLangState(next);
      },
      t: (key, params) => translate(lang, key, params),
    }),
    [lang],
  );
  const { t } = i18n;

  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  useEffect(() => {
    const title = TITLES[route];
    document.title = title ? `${t(title)} — ${t('app.name')}` : t('app.name');
  }, [route, t]);

  useEffect(() => (rootRef.current ? interceptLinks(rootRef.current) : undefined), []);

  // After a client-side navigation, move focus to the new page's heading so that
  // keyboard and screen-reader users start from the new content.
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    mainRef.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [path]);

  return (
    <I18nContext.Provider value={i18n}>
      <div class="shell" ref={rootRef}>
        <a class="skip-link" href="#main">
          {t('app.skip')}
        </a>
        <header class="site-header">
          <div class="bar">
            <a class="brand" href="/">
              {t('app.name')}
            </a>
            <p class="tagline">{t('app.tagline')}</p>
            <div class="tools">
              <a class="signin-link" href="/signin" aria-current={route === 'signin' ? 'page' : undefined}>
                {t('nav.signin')}
              </a>
              <LanguageSwitch />
            </div>
          </div>
          <nav class="nav" aria-label={t('nav.label')}>
            <ul>
              {NAV.map((item) => (
                <li key={item.href}>
                  <a href={item.href} aria-current={path === item.href ? 'page' : undefined}>
                    {t(item.label)}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        </header>
        <main id="main" class="main" ref={mainRef} tabIndex={-1}>
          <Page route={route} path={path} />
        </main>
        <footer class="site-footer">
          <p>{t('app.footer')}</p>
        </footer>
      </div>
    </I18nContext.Provider>
  );
}
