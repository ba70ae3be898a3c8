// Findings (J1/J2): the last scan's findings by article, status and deadline, with the moves
// the workflow allows (the server decides who may make them).
import { useState } from 'preact/hooks';
import { reg, type Finding } from '../registry/api';
import { tr, trAny } from '../registry/i18n';
import { fmtTime } from '../i18n';
import { ErrorBanner, useLang, usePoll } from '../ui';

const NEXT: Record<string, string[]> = {
  open: ['rectification_ordered'],
  rectification_ordered: ['rectified'],
  rectified: ['verified', 'rectification_ordered'],
  verified: [],
};
const STATUSES = ['open', 'rectification_ordered', 'rectified', 'verified'];

export function FindingsPage() {
  useLang();
  const [system, setSystem] = useState('');
  const [status, setStatus] = useState('');
  const [article, setArticle] = useState('');
  const [note, setNote] = useState('');
  const [msg, setMsg] = useState('');
  const [actionError, setActionError] = useState<unknown>(null);
  const [list, error, reload] = usePoll<Finding[]>(() => reg.findings({ system, status, article }), 0, [system, status, article]);
  const byArticle = new Map<string, Finding[]>();
  for (const f of list ?? []) {
    const a = f.articles.split('; ')[0] || '—';
    byArticle.set(a, [...(byArticle.get(a) ?? []), f]);
  }
  return (
    <section aria-labelledby="findings-title">
      <h1 id="findings-title">{tr('findings')}</h1>
      <div class="toolbar">
        <button
          type="button"
          id="scan-now"
          class="primary"
          onClick={async () => {
            setActionError(null);
            try {
              const s = await reg.scan();
              setMsg(tr('scanned', { devices: s.devices, findings: s.findings }));
              reload();
            } catch (e) {
              setActionError(e);
            }
          }}
        >
          {tr('scan_now')}
        </button>
        <label>
          {tr('filter_system')} <input value={system} size={10} onChange={(e) => setSystem((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {tr('filter_status')}{' '}
          <select value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
            <option value="">{tr('all')}</option>
            {STATUSES.map((s) => (
              <option value={s}>{trAny(`status.${s}`, s)}</option>
            ))}
          </select>
        </label>
        <label>
          {tr('filter_article')} <input value={article} size={12} onChange={(e) => setArticle((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {tr('note')} <input value={note} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
        </label>
      </div>
      {msg && (
        <p class="banner ok" role="status">
          {msg}
        </p>
      )}
      <ErrorBanner error={error} />
      <ErrorBanner error={actionError} onClose={() => setActionError(null)} />
      {list && list.length === 0 && <p class="muted">{tr('no_findings')}</p>}
      {[...byArticle.entries()].map(([art, fs]) => (
        <div class="card">
          <h2>{art}</h2>
          <table class="grid findings">
            <thead>
              <tr>
                <th scope="col">{tr('rule')}</th>
                <th scope="col">{tr('subject')}</th>
                <th scope="col">{tr('severity')}</th>
                <th scope="col">{tr('filter_status')}</th>
                <th scope="col">{tr('deadline')}</th>
                <th scope="col">{tr('message')}</th>
                <th scope="col">{tr('actions')}</th>
              </tr>
            </thead>
            <tbody>
              {fs.map((f) => (
                <tr data-finding={f.id}>
                  <td class="mono">{f.rule}</td>
                  <td class="mono">{f.subject}</td>
                  <td>{f.severity}</td>
                  <td>{trAny(`status.${f.status}`, f.status)}</td>
                  <td>{fmtTime(f.deadline)}</td>
                  <td>{f.message}</td>
                  <td>
                    {(NEXT[f.status] ?? []).map((to) => (
                      <button
                        type="button"
                        data-to={to}
                        onClick={async () => {
                          setActionError(null);
                          try {
                            await reg.advance(f.id, to, note);
                            reload();
                          } catch (e) {
                            setActionError(e);
                          }
                        }}
                      >
                        {trAny(`to.${to}`, to)}
                      </button>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </section>
  );
}
