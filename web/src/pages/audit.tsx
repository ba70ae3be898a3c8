// Audit log viewer (auditor): filters by actor, action, object and time; pages backwards by
// sequence number.
import { useState } from 'preact/hooks';
import { api, type AuditPage as Page } from '../api';
import { fmtTime, t } from '../i18n';
import { ErrorBanner, useLang, usePoll } from '../ui';

const LIMIT = 50;

interface Filters {
  actor: string;
  action: string;
  object: string;
  from: string;
  to: string;
}

const EMPTY: Filters = { actor: '', action: '', object: '', from: '', to: '' };

export function AuditPage() {
  useLang();
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  // Stack of `before` cursors: [] is the newest page.
  const [cursors, setCursors] = useState<number[]>([]);
  const before = cursors.length ? cursors[cursors.length - 1] : undefined;
  const [page, error] = usePoll<Page>(
    () =>
      api.audit({
        actor: filters.actor,
        action: filters.action,
        object: filters.object,
        from: filters.from ? new Date(filters.from).toISOString() : undefined,
        to: filters.to ? new Date(filters.to).toISOString() : undefined,
        limit: LIMIT,
        before,
      }),
    0,
    [filters, before],
  );
  const set = (k: keyof Filters) => (e: Event) => setDraft({ ...draft, [k]: (e.target as HTMLInputElement).value });
  const field = (k: keyof Filters, label: string, time = false) => (
    <label>
      {label}
      {time ? (
        <input type="datetime-local" step={1} name={k} value={draft[k]} onInput={set(k)} />
      ) : (
        <input type="text" name={k} value={draft[k]} onInput={set(k)} />
      )}
    </label>
  );
  const entries = page?.entries ?? [];
  const older = page?.next_before ?? undefined;

  return (
    <section aria-labelledby="audit-title">
      <div class="toolbar">
        <h1 id="audit-title">{t('audit_title')}</h1>
        {page && <span class="muted">{t('total', { n: page.total })}</span>}
      </div>
      <form
        class="filters card"
        onSubmit={(e) => {
          e.preventDefault();
          setCursors([]);
          setFilters(draft);
        }}
      >
        {field('actor', t('actor'))}
        {field('action', t('action'))}
        {field('object', t('object'))}
        {field('from', t('from'), true)}
        {field('to', t('to'), true)}
        <button type="submit" class="primary">
          {t('filter')}
        </button>
        <button
          type="button"
          onClick={() => {
            setDraft(EMPTY);
            setFilters(EMPTY);
            setCursors([]);
          }}
        >
          {t('clear')}
        </button>
      </form>
      <ErrorBanner error={error} />
      {page && entries.length === 0 && <p class="muted">{t('no_entries')}</p>}
      {entries.length > 0 && (
        <table class="grid audit">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">{t('time')}</th>
              <th scope="col">{t('actor')}</th>
              <th scope="col">{t('action')}</th>
              <th scope="col">{t('object')}</th>
              <th scope="col">{t('details')}</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr data-seq={e.seq}>
                <td class="mono">{e.seq}</td>
                <td>{fmtTime(e.time)}</td>
                <td>{e.actor}</td>
                <td class="mono">{e.action}</td>
                <td class="mono">{e.object}</td>
                <td class="mono details">{e.purpose ? `${e.purpose} ` : ''}{e.details === undefined || e.details === null ? '' : typeof e.details === 'string' ? e.details : JSON.stringify(e.details)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="pager">
        <button type="button" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
          ‹ {t('newer')}
        </button>
        <button type="button" disabled={older === undefined} onClick={() => older !== undefined && setCursors([...cursors, older])}>
          {t('older')} ›
        </button>
      </div>
    </section>
  );
}
