// Login: user name and password, plus the one-time code field when the server asks for it.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, setCsrf } from '../api';
import { getLang, LANGS, setLang, t, type Lang } from '../i18n';
import { useLang } from '../ui';
import { tr } from '../registry/i18n';

/** Whether a login refusal means "a TOTP code is needed" (kind or message says so). */
function wantsTotp(e: ApiError): boolean {
  const b = e.body as Record<string, unknown>;
  return b.totp_required === true || /totp/i.test(e.kind) || /totp|one-time code|动态/i.test(e.message);
}

export function Login({ onLoggedIn }: { onLoggedIn: () => Promise<void> }) {
  useLang();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [showTotp, setShowTotp] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const totpRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (showTotp) totpRef.current?.focus();
  }, [showTotp]);

  const submit = async (ev: Event) => {
    ev.preventDefault();
    setBusy(true);
    setError('');
    try {
      const s = await api.login(username, password, showTotp ? totp : undefined);
      setCsrf(s.csrf);
      await onLoggedIn();
    } catch (e) {
      if (e instanceof ApiError && wantsTotp(e) && !showTotp) {
        // Password accepted, second factor needed: ask for it rather than report a failure.
        setShowTotp(true);
      } else {
        setError(e instanceof ApiError ? e.message : String(e));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="login-wrap">
      <form class="login card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">
          {t('app_name')} · {t('login_title')}
        </h1>
        <label>
          {t('username')}
          <input
            name="username"
            autoComplete="username"
            required
            value={username}
            onInput={(e) => setUsername((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          {t('password')}
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
          />
        </label>
        {showTotp && (
          <label>
            {t('totp')}
            <input
              name="totp"
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9]{6}"
              required
              ref={totpRef}
              aria-describedby="totp-hint"
              value={totp}
              onInput={(e) => setTotp((e.target as HTMLInputElement).value)}
            />
            <small id="totp-hint" class="muted">
              {t('totp_hint')}
            </small>
          </label>
        )}
        {error && (
          <p class="banner error" role="alert">
            {t('login_failed')}: {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t('logging_in') : t('login_button')}
        </button>
        <p class="public-links">
          <a href="#/complaint" id="complaint-link">
            {tr('complaint_link')}
          </a>{' '}
          · <a href="#/catalogue">{tr('catalogue_link')}</a>
        </p>
        <label class="lang-inline">
          {t('language')}{' '}
          <select value={getLang()} onChange={(e) => setLang((e.target as HTMLSelectElement).value as Lang)}>
            {LANGS.map((l) => (
              <option value={l.id}>{l.label}</option>
            ))}
          </select>
        </label>
      </form>
    </div>
  );
}
