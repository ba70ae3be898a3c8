// Public pages, no account needed: the complaint form (J3) and the catalogue of systems that
// must connect to the sharing platform (I1). Reachable from the login page.
import { useState } from 'preact/hooks';
import { reg } from '../registry/api';
import { tr } from '../registry/i18n';
import { t } from '../i18n';
import { ErrorBanner, useLang, usePoll } from '../ui';

export function ComplaintPage() {
  useLang();
  const [against, setAgainst] = useState('');
  const [body, setBody] = useState('');
  const [contact, setContact] = useState('');
  const [done, setDone] = useState<{ id: number; sha256: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <div class="login-wrap">
      <form
        class="login card"
        id="complaint-form"
        aria-labelledby="complaint-title"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            setDone(await reg.complain(against, body, contact));
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        <h1 id="complaint-title">
          {t('app_name')} · {tr('complaint_title')}
        </h1>
        <p class="muted">{tr('complaint_intro')}</p>
        <label>
          {tr('complaint_against')}
          <input name="against" required value={against} onInput={(e) => setAgainst((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {tr('complaint_body')}
          <textarea name="body" required rows={6} value={body} onInput={(e) => setBody((e.target as HTMLTextAreaElement).value)} />
        </label>
        <label>
          {tr('complaint_contact')}
          <input name="contact" value={contact} onInput={(e) => setContact((e.target as HTMLInputElement).value)} />
        </label>
        <ErrorBanner error={error} />
        {done && (
          <p class="banner ok" role="status" id="complaint-done">
            {tr('complaint_done', { id: done.id, sha: done.sha256 })}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy || !!done}>
          {tr('complaint_submit')}
        </button>
        <a href="#/">{tr('to_login')}</a>
      </form>
    </div>
  );
}

export function CataloguePage() {
  useLang();
  const [list, error] = usePoll(() => reg.catalogue(), 0);
  return (
    <main class="public">
      <h1>{tr('catalogue_title')}</h1>
      <ErrorBanner error={error} />
      <table class="grid catalogue">
        <thead>
          <tr>
            <th scope="col">{tr('system')}</th>
            <th scope="col">{tr('division')}</th>
            <th scope="col">{tr('using_unit')}</th>
            <th scope="col">{tr('state')}</th>
            <th scope="col">{tr('cameras')}</th>
          </tr>
        </thead>
        <tbody>
          {(list ?? []).map((e) => (
            <tr>
              <td>{e.name}</td>
              <td class="mono">{e.division}</td>
              <td>{e.using_unit}</td>
              <td>{e.state}</td>
              <td>{e.cameras}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <a href="#/">{tr('to_login')}</a>
    </main>
  );
}
