// The console shell: session bootstrap, header (navigation, language, duty, logout) and a
// hash router over the pages.
import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, ApiError, setCsrf, setUnauthenticatedHandler, type Session } from './api';
import { getLang, LANGS, roleName, setLang, t, type Lang } from './i18n';
import { Ctx, ErrorBanner, hasRole, useLang } from './ui';
import { Login } from './pages/login';
import { Wall } from './pages/wall';
import { CameraPage } from './pages/camera';
import { HealthPage } from './pages/health';
import { UsersPage } from './pages/users';
import { AuditPage } from './pages/audit';
import { PasswordPage } from './pages/password';
import { RegistryPage } from './pages/registry';
import { FindingsPage } from './pages/findings';
import { InspectionPage } from './pages/inspection';
import { ReportPage } from './pages/report';
import { CataloguePage, ComplaintPage } from './pages/complaint';
import { tr } from './registry/i18n';
import { GbPage, gbNavVisible } from './pages/gb';
import { CitizenSessionsPage, CitizenViewPage } from './pages/citizen';
import { tc } from './citizen/i18n';
import { RequestsPage, rq } from './pages/requests';
import './style.css';

function useHash(): string {
  const [h, setH] = useState(location.hash || '#/wall');
  useEffect(() => {
    const f = () => setH(location.hash || '#/wall');
    window.addEventListener('hashchange', f);
    return () => window.removeEventListener('hashchange', f);
  }, []);
  return h;
}

function App() {
  useLang();
  const [session, setSession] = useState<Session | null>(null);
  const [booting, setBooting] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const hash = useHash();

  const refreshSession = useCallback(async () => {
    try {
      const s = await api.session();
      setCsrf(s.csrf);
      setSession(s);
    } catch (e) {
      if (e instanceof ApiError && e.unauthenticated) setSession(null);
      else setError(e);
    } finally {
      setBooting(false);
    }
  }, []);

  useEffect(() => {
    setUnauthenticatedHandler(() => setSession(null));
    // H4: a citizen view page has no account session to look for.
    if (location.hash.startsWith('#/view')) setBooting(false);
    else refreshSession();
  }, []);

  // H4: the applicant of a citizen view session has no account.
  if (hash.startsWith('#/view')) return <CitizenViewPage code={hash.split('/')[2] || undefined} />;
  if (booting) return <p class="center muted">{t('loading')}</p>;
  // Public pages (no account): complaints (J3) and the catalogue (I1).
  if (hash.startsWith('#/complaint')) return <ComplaintPage />;
  if (hash.startsWith('#/catalogue')) return <CataloguePage />;
  if (!session)
    return (
      <Login
        onLoggedIn={async () => {
          await refreshSession();
        }}
      />
    );

  const navigate = (h: string) => {
    location.hash = h;
  };
  const [, route, arg] = hash.split('/');
  const mustChange = !!session.user.must_change_password;
  const page = (() => {
    if (mustChange) return <PasswordPage required onChanged={refreshSession} />;
    switch (route) {
      case 'password':
        return <PasswordPage required={false} onChanged={refreshSession} />;
      case 'camera':
        return <CameraPage name={decodeURIComponent(arg ?? '')} />;
      case 'health':
        return <HealthPage />;
      case 'users':
        return <UsersPage />;
      case 'audit':
        return <AuditPage />;
      case 'registry':
        return <RegistryPage id={arg ? decodeURIComponent(arg) : undefined} />;
      case 'findings':
        return <FindingsPage />;
      case 'inspection':
        return <InspectionPage />;
      case 'report':
        return <ReportPage id={arg ? decodeURIComponent(arg) : undefined} />;
      case 'gb':
        return <GbPage />;
      case 'citizen':
        return <CitizenSessionsPage />;
      case 'requests':
        return <RequestsPage />;
      default:
        return <Wall />;
    }
  })();
  const nav: [string, string][] = [
    ['wall', t('nav_wall')],
    ['health', t('nav_health')],
    ['users', t('nav_users')],
    ['audit', t('nav_audit')],
    ['registry', tr('nav_registry')],
    ['findings', tr('nav_findings')],
    ['inspection', tr('nav_inspection')],
    ['report', tr('nav_report')],
    ['requests', rq('nav')],
    ...(gbNavVisible(session) ? ([['gb', t('nav_gb')]] as [string, string][]) : []),
    ...(hasRole(session, 'police_officer') ? ([['citizen', tc('nav')]] as [string, string][]) : []),
  ];
  return (
    <Ctx.Provider value={{ session, refreshSession, navigate }}>
      <a class="skip" href="#main">
        {t('nav_wall')}
      </a>
      <header class="top">
        <span class="brand">custos</span>
        <nav aria-label="main">
          {nav.map(([id, label]) => (
            <a href={`#/${id}`} class={route === id || (!route && id === 'wall') ? 'active' : ''} aria-current={route === id ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span class="spacer" />
        {hasRole(session, 'watch_operator') && <DutySwitch session={session} onChange={refreshSession} />}
        <a
          class="who"
          href="#/password"
          title={`${t('change_password')}\n${session.user.roles.map((r) => `${roleName(r.role)} @ ${r.scope}`).join('\n')}`}
        >
          {session.user.name}
        </a>
        <label class="lang">
          <span class="sr">{t('language')}</span>
          <select
            value={getLang()}
            aria-label={t('language')}
            onChange={(e) => setLang((e.target as HTMLSelectElement).value as Lang)}
          >
            {LANGS.map((l) => (
              <option value={l.id}>{l.label}</option>
            ))}
          </select>
        </label>
        <button
          type="button"
          onClick={async () => {
            try {
              await api.logout();
            } catch {
              /* the session is gone either way */
            }
            setSession(null);
          }}
        >
          {t('logout')}
        </button>
      </header>
      <ErrorBanner error={error} onClose={() => setError(null)} />
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </Ctx.Provider>
  );
}

function DutySwitch({ session, onChange }: { session: Session; onChange: () => Promise<void> }) {
  const [error, setError] = useState<unknown>(null);
  const on = !!session.user.on_duty;
  return (
    <span class="duty">
      <span class={`pill ${on ? 'ok' : 'warn'}`}>{on ? t('on_duty') : t('off_duty')}</span>
      <button
        type="button"
        id="duty-toggle"
        onClick={async () => {
          try {
            await api.duty(!on);
            setError(null);
            await onChange();
          } catch (e) {
            setError(e);
          }
        }}
      >
        {on ? t('end_shift') : t('start_shift')}
      </button>
      {error ? <ErrorBanner error={error} onClose={() => setError(null)} /> : null}
    </span>
  );
}

render(<App />, document.getElementById('app')!);
