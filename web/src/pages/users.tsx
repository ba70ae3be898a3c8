// Users and roles (administrator): list, add, disable; sessions with "end session".
import { useState } from 'preact/hooks';
import { api, listOf, type Account, type SessionInfo } from '../api';
import { fmtTime, roleName, t } from '../i18n';
import { ErrorBanner, useLang, usePoll } from '../ui';

export const ROLES = [
  'administrator',
  'watch_operator',
  'maintainer',
  'police_officer',
  'police_approver',
  'inspector',
  'auditor',
  'citizen_viewer',
];

function AddUser({ onAdded }: { onAdded: () => void }) {
  useLang();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState('watch_operator');
  const [scopes, setScopes] = useState('local');
  const [expires, setExpires] = useState('');
  const [error, setError] = useState<unknown>(null);
  return (
    <details class="card" id="add-user">
      <summary>{t('add_user')}</summary>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          try {
            await api.addUser({
              name,
              password,
              role,
              scopes: scopes.split(/[\s,]+/).filter(Boolean),
              expires: expires ? new Date(expires).toISOString() : undefined,
            });
            setName('');
            setPassword('');
            onAdded();
          } catch (err) {
            setError(err);
          }
        }}
      >
        <label>
          {t('username')}
          <input required name="new-name" value={name} autoComplete="off" onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {t('password')}
          <input required name="new-password" type="password" autoComplete="new-password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {t('role')}
          <select name="new-role" value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
            {ROLES.map((r) => (
              <option value={r}>{roleName(r)}</option>
            ))}
          </select>
        </label>
        <label>
          {t('scope')}
          <input name="new-scopes" value={scopes} placeholder="local/main/default/cam1" onInput={(e) => setScopes((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {t('expires')}
          <input type="datetime-local" value={expires} onInput={(e) => setExpires((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit" class="primary">
          {t('add')}
        </button>
      </form>
      <ErrorBanner error={error} onClose={() => setError(null)} />
    </details>
  );
}

export function UsersPage() {
  useLang();
  const [users, error, reload] = usePoll(async () => listOf<Account>(await api.users(), 'users'), 0);
  const [sessions, sError, reloadSessions] = usePoll(async () => listOf<SessionInfo>(await api.sessions(), 'sessions'), 0);
  const [actionError, setActionError] = useState<unknown>(null);
  return (
    <section aria-labelledby="users-title">
      <div class="toolbar">
        <h1 id="users-title">{t('users_title')}</h1>
      </div>
      <ErrorBanner error={error || actionError} onClose={() => setActionError(null)} />
      <AddUser onAdded={reload} />
      {users && (
        <table class="grid">
          <thead>
            <tr>
              <th scope="col">{t('username')}</th>
              <th scope="col">{t('role')}</th>
              <th scope="col">{t('expires')}</th>
              <th scope="col">{t('status')}</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr data-user={u.name}>
                <th scope="row">{u.name}</th>
                <td>
                  {u.roles.map((r) => (
                    <div>
                      {roleName(r.role)} <span class="muted mono">@ {r.scope}</span>
                    </div>
                  ))}
                </td>
                <td>{u.expires ? fmtTime(u.expires) : '—'}</td>
                <td>
                  {u.disabled === undefined ? (
                    '—'
                  ) : (
                    <span class={`pill ${u.disabled ? 'bad' : 'ok'}`}>{u.disabled ? t('disabled') : t('active')}</span>
                  )}
                </td>
                <td>
                  {!u.disabled && (
                    <button
                      type="button"
                      class="small"
                      onClick={async () => {
                        if (!confirm(t('confirm_disable', { name: u.name }))) return;
                        try {
                          await api.disableUser(u.name);
                          reload();
                        } catch (e) {
                          setActionError(e);
                        }
                      }}
                    >
                      {t('disable')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>{t('sessions')}</h2>
      <ErrorBanner error={sError} />
      {sessions && (
        <table class="grid">
          <thead>
            <tr>
              <th scope="col">{t('username')}</th>
              <th scope="col">{t('created')}</th>
              <th scope="col">{t('last_seen')}</th>
              <th scope="col">{t('address')}</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {sessions.map((s) => (
              <tr>
                <td>{s.user ?? '—'}</td>
                <td>{s.created ? fmtTime(s.created) : '—'}</td>
                <td>{s.last_seen ? fmtTime(s.last_seen) : '—'}</td>
                <td class="mono">{s.peer ?? ''}</td>
                <td>
                  {!s.current && (
                    <button
                      type="button"
                      class="small"
                      onClick={async () => {
                        try {
                          await api.endSession(s.id);
                          reloadSessions();
                        } catch (e) {
                          setActionError(e);
                        }
                      }}
                    >
                      {t('session_end')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
