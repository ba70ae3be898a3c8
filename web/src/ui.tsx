// Small shared pieces: the app context, the error banner, hooks.
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { ApiError, type Session } from './api';
import { onLangChange, t } from './i18n';

export interface AppCtx {
  session: Session;
  refreshSession: () => Promise<void>;
  navigate: (hash: string) => void;
}

export const Ctx = createContext<AppCtx | null>(null);

export function useApp(): AppCtx {
  const c = useContext(Ctx);
  if (!c) throw new Error('no app context');
  return c;
}

/** Re-renders the caller when the language changes. */
export function useLang(): void {
  const [, set] = useState(0);
  useEffect(() => onLangChange(() => set((n) => n + 1)), []);
}

export function hasRole(s: Session, role: string): boolean {
  return s.user.roles.some((r) => r.role === role);
}

/** A failed request shown to the user: 403 names what was refused, others show the server's reason. */
export function ErrorBanner({ error, onClose }: { error: unknown; onClose?: () => void }) {
  useLang();
  if (!error) return null;
  let head: string;
  let detail = '';
  if (error instanceof ApiError) {
    if (error.forbidden) {
      head = t('no_permission', { what: error.what });
      detail = error.message;
    } else {
      head = `${t('error')} ${error.status || ''} — ${error.what}`;
      detail = error.message;
    }
  } else {
    head = t('error');
    detail = String(error);
  }
  return (
    <div class={`banner ${error instanceof ApiError && error.forbidden ? 'denied' : 'error'}`} role="alert">
      <strong>{head}</strong>
      {detail && (
        <span>
          {' '}
          {t('server_said')} {detail}
        </span>
      )}
      {onClose && (
        <button type="button" class="link" onClick={onClose} aria-label={t('close')}>
          ×
        </button>
      )}
    </div>
  );
}

/** Polls `load` every `everyMs` (and once at mount); returns [value, error, reload]. */
export function usePoll<T>(load: () => Promise<T>, everyMs: number, deps: unknown[] = []): [T | null, unknown, () => void] {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    let alive = true;
    let timer = 0;
    const run = async () => {
      try {
        const v = await load();
        if (alive) {
          setValue(v);
          setError(null);
        }
      } catch (e) {
        if (alive) setError(e);
      }
      if (alive && everyMs > 0) timer = window.setTimeout(run, everyMs);
    };
    run();
    return () => {
      alive = false;
      window.clearTimeout(timer);
    };
  }, [...deps, n]);
  return [value, error, () => setN((x) => x + 1)];
}
