import { Component, type ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { apiFetch } from './api';
import { I18nContext, LANGS, LANG_NAMES, initialLang, saveLang, translate, useI18n } from './i18n';
import type { I18n, Lang, MessageKey } from './i18n';
import { interceptLinks, matchRoute, navigate, usePath, type Match } from './router';
import { reportError } from './report';
import { RequireSession, SessionProvider, useSession } from './session';
import { Loading, useTitle } from './components/views';
import { HomePage } from './pages/home';
import { NotFoundPage } from './pages/notfound';
import { EventsProvider, useEvents } from './events';
import { SignInPage } from './pages/signin';
import { ResetPasswordPage } from './pages/resetpassword';
import { ProfilePage } from './pages/profile';
import { PeoplePage } from './pages/people';
import { PersonPage } from './pages/person';
import { CommunitiesPage } from './pages/communities';
import { CommunityPage } from './pages/community';
import { CommunityNewPage } from './pages/communitynew';
import { AdminUsersPage } from './pages/admin/users';
import { AdminTokensPage } from './pages/admin/tokens';
import { AdminAuditPage } from './pages/admin/audit';
import { AdminChannelsPage } from './pages/admin/channels';
import { InboxPage } from './pages/questions/inbox';
import { QuestionPage } from './pages/questions/question';
import { QuestionsSignedOut } from './pages/questions/signedout';
import { AskPage } from './pages/public/ask';
import { FollowPage } from './pages/public/follow';

const NAV: ReadonlyArray<{ href: string; label: MessageKey }> = [
  { href: '/', label: 'nav.home' },
  { href: '/questions', label: 'nav.questions' },
  { href: '/communities', label: 'nav.communities' },
  { href: '/people', label: 'nav.people' },
];

/** /questions: the inbox for a signed-in person; what the section is, for a visitor. */
function QuestionsEntry() {
  const { status } = useSession();
  if (status === 'signed-in') return <InboxPage key="mine" scope="mine" />;
  if (status === 'loading') return <Loading />;
  return <QuestionsSignedOut />;
}

/** /admin itself: the first admin section. */
function AdminIndex() {
  useEffect(() => navigate('/admin/users', { replace: true }), []);
  return <Loading />;
}

function Page({ match, path }: { match: Match; path: string }) {
  const id = match.params.id ?? '';
  switch (match.route) {
    case 'home':
      return <HomePage />;
    case 'signin':
      return <SignInPage />;
    case 'resetPassword':
      return <ResetPasswordPage />;
    case 'questions':
      return <QuestionsEntry />;
    case 'questionsTriage':
      return <RequireSession><InboxPage key="triage" scope="triage" /></RequireSession>;
    case 'question':
      return <RequireSession><QuestionPage key={id} id={id} /></RequireSession>;
    case 'me':
      return <RequireSession><ProfilePage /></RequireSession>;
    case 'people':
      return <RequireSession><PeoplePage /></RequireSession>;
    case 'person':
      return <RequireSession><PersonPage key={id} id={id} /></RequireSession>;
    case 'communities':
      return <RequireSession><CommunitiesPage /></RequireSession>;
    case 'communityNew':
      return <RequireSession><CommunityNewPage /></RequireSession>;
    case 'community':
      return <RequireSession><CommunityPage key={id} id={id} /></RequireSession>;
    case 'admin':
      return <RequireSession><AdminIndex /></RequireSession>;
    case 'adminUsers':
      return <RequireSession><AdminUsersPage /></RequireSession>;
    case 'adminTokens':
      return <RequireSession><AdminTokensPage /></RequireSession>;
    case 'adminAudit':
      return <RequireSession><AdminAuditPage /></RequireSession>;
    case 'adminChannels':
      return <RequireSession><AdminChannelsPage /></RequireSession>;
    case 'ask':
      return <AskPage key={match.params.slug} slug={match.params.slug ?? ''} />;
    case 'follow':
      return <FollowPage key={match.params.token} token={match.params.token ?? ''} />;
    case 'notfound':
      return <NotFoundPage path={path} />;
  }
}

function CrashView() {
  const { t } = useI18n();
  useTitle(t('crash.title'));
  return (
    <section class="page" data-page="crash">
      <h1 tabIndex={-1}>{t('crash.title')}</h1>
      <p>{t('crash.body')}</p>
      <p>
        <a href="/">{t('notfound.home')}</a>
      </p>
    </section>
  );
}

/** A page that throws while rendering shows the crash view (and is reported) instead of a blank app. */
class ErrorBoundary extends Component<{ children: ComponentChildren }, { error: unknown }> {
  override state = { error: null as unknown };

  static override getDerivedStateFromError(error: unknown) {
    return { error };
  }

  override componentDidCatch(error: unknown) {
    reportError(error, 'render');
  }

  override render() {
    return this.state.error ? <CrashView /> : this.props.children;
  }
}

function LanguageSwitch() {
  const { lang, setLang, t } = useI18n();
  const { status, updateUser } = useSession();
  const change = (next: Lang) => {
    setLang(next);
    // Signed in, the choice is the profile's locale too (e-mails, next sign-in).
    if (status === 'signed-in') {
      updateUser({ locale: next });
      apiFetch('/me', { method: 'PATCH', body: { locale: next } }).catch(() => {});
    }
  };
  return (
    <div class="lang-switch">
      <label for="lang-select">{t('lang.label')}</label>
      <select id="lang-select" value={lang} onChange={(e) => change(e.currentTarget.value as Lang)}>
        {LANGS.map((code) => (
          <option key={code} value={code} lang={code}>
            {LANG_NAMES[code]}
          </option>
        ))}
      </select>
    </div>
  );
}

function Account({ signinCurrent }: { signinCurrent: boolean }) {
  const { t } = useI18n();
  const { status, user, signOut } = useSession();
  const [busy, setBusy] = useState(false);
  if (status === 'loading') return <span class="account-pending" aria-hidden="true" />;
  if (status === 'signed-out' || !user) {
    return (
      <a class="signin-link" href="/signin" aria-current={signinCurrent ? 'page' : undefined}>
        {t('nav.signin')}
      </a>
    );
  }
  const onSignOut = async () => {
    if (busy) return;
    setBusy(true);
    await signOut();
    setBusy(false);
    navigate('/signin');
  };
  return (
    <div class="account">
      <a class="account-name" href="/me" title={t('nav.profile')}>
        <span class="visually-hidden">{t('nav.signedInAs')} </span>
        {user.display_name}
      </a>
      <button type="button" class="button button-secondary button-small" onClick={() => void onSignOut()}>
        {t('nav.signout')}
      </button>
    </div>
  );
}

/** The customer-facing pages (/ask, /follow): a simple header, no navigation, no account. */
function PublicShell({ match, path }: { match: Match; path: string }) {
  const { t } = useI18n();
  const rootRef = useRef<HTMLDivElement>(null);
  useEffect(() => (rootRef.current ? interceptLinks(rootRef.current) : undefined), []);
  return (
    <div class="shell shell-public" ref={rootRef}>
      <a class="skip-link" href="#main">
        {t('app.skip')}
      </a>
      <header class="site-header">
        <div class="bar">
          <span class="brand">{t('app.name')}</span>
          <p class="tagline">{t('public.tagline')}</p>
          <div class="tools">
            <LanguageSwitch />
          </div>
        </div>
      </header>
      <main id="main" class="main" tabIndex={-1}>
        <ErrorBoundary key={path}>
          <Page match={match} path={path} />
        </ErrorBoundary>
      </main>
      <footer class="site-footer">
        <p>{t('public.footer')}</p>
      </footer>
    </div>
  );
}

function Root() {
  const path = usePath();
  const match = matchRoute(path);
  const { status } = useSession();
  if (match.route === 'ask' || match.route === 'follow') return <PublicShell match={match} path={path} />;
  return (
    <EventsProvider enabled={status === 'signed-in'}>
      <Shell match={match} path={path} />
    </EventsProvider>
  );
}

function Shell({ match, path }: { match: Match; path: string }) {
  const { t } = useI18n();
  const { user } = useSession();
  const { unseen } = useEvents();
  const rootRef = useRef<HTMLDivElement>(null);
  const mainRef = useRef<HTMLElement>(null);
  const firstRender = useRef(true);

  useEffect(() => (rootRef.current ? interceptLinks(rootRef.current) : undefined), []);

  // After a client-side navigation, move focus to the new page's heading so that
  // keyboard and screen-reader users start from the new content.
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    const focusHeading = () => mainRef.current?.querySelector<HTMLElement>('h1')?.focus();
    focusHeading();
  }, [path]);

  const nav = user?.role === 'admin' ? [...NAV, { href: '/admin', label: 'nav.admin' as const }] : NAV;
  const current = (href: string) =>
    path === href ? 'page' : href !== '/' && path.startsWith(`${href}/`) ? 'true' : undefined;

  return (
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
            <Account signinCurrent={match.route === 'signin'} />
            <LanguageSwitch />
          </div>
        </div>
        <nav class="nav" aria-label={t('nav.label')}>
          <ul>
            {nav.map((item) => (
              <li key={item.href}>
                <a href={item.href} aria-current={current(item.href)}>
                  {t(item.label)}
                  {item.href === '/questions' && unseen > 0 && (
                    <span class="nav-badge">
                      <span aria-hidden="true">{unseen > 99 ? '99+' : unseen}</span>
                      <span class="visually-hidden"> {t('nav.unseen', { count: unseen })}</span>
                    </span>
                  )}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" class="main" ref={mainRef} tabIndex={-1}>
        <ErrorBoundary key={path}>
          <Page match={match} path={path} />
        </ErrorBoundary>
      </main>
      <footer class="site-footer">
        <p>{t('app.footer')}</p>
      </footer>
    </div>
  );
}

export function App() {
  const [lang, setLangState] = useState<Lang>(initialLang);

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

  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  return (
    <I18nContext.Provider value={i18n}>
      <SessionProvider>
        <Root />
      </SessionProvider>
    </I18nContext.Provider>
  );
}
