// Change one's own password: required before anything else after a generated or reset
// password (the server grants no rights until then), and available from the header.
import { useState } from 'preact/hooks';
import { api } from '../api';
import { t } from '../i18n';
import { ErrorBanner, useLang } from '../ui';

export function PasswordPage({ required, onChanged }: { required: boolean; onChanged: () => Promise<void> }) {
  useLang();
  const [old, setOld] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const mismatch = again !== '' && next !== again;
  return (
    <section aria-labelledby="pw-title" class="narrow">
      <h1 id="pw-title">{t('change_password')}</h1>
      {required && (
        <p class="banner warn" role="status" id="must-change-password">
          {t('must_change_password')}
        </p>
      )}
      <form
        class="card stack"
        onSubmit={async (e) => {
          e.preventDefault();
          if (mismatch) return;
          setError(null);
          try {
            await api.changePassword(old, next);
            setDone(true);
            setOld('');
            setNext('');
            setAgain('');
            await onChanged();
          } catch (err) {
            setError(err);
          }
        }}
      >
        <label>
          {t('old_password')}
          <input type="password" name="old-password" autoComplete="current-password" required value={old} onInput={(e) => setOld((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {t('new_password')}
          <input type="password" name="new-password" autoComplete="new-password" minLength={12} required value={next} onInput={(e) => setNext((e.target as HTMLInputElement).value)} />
          <small class="muted">{t('password_rules')}</small>
        </label>
        <label>
          {t('repeat_password')}
          <input
            type="password"
            name="repeat-password"
            autoComplete="new-password"
            required
            aria-invalid={mismatch}
            value={again}
            onInput={(e) => setAgain((e.target as HTMLInputElement).value)}
          />
          {mismatch && <small class="bad-text">{t('passwords_differ')}</small>}
        </label>
        <button type="submit" class="primary" disabled={mismatch}>
          {t('change_password')}
        </button>
      </form>
      <ErrorBanner error={error} onClose={() => setError(null)} />
      {done && (
        <p class="banner ok" role="status">
          {t('password_changed')}
        </p>
      )}
    </section>
  );
}
