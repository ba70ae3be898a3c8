// Report: a system's compliance report as PDF (printed by the server) or printable HTML.
import { useState } from 'preact/hooks';
import { reg, type SystemSummary } from '../registry/api';
import { tr } from '../registry/i18n';
import { ErrorBanner, useLang, usePoll } from '../ui';

export function ReportPage({ id }: { id?: string }) {
  useLang();
  const [systems, error] = usePoll<SystemSummary[]>(() => reg.systems(), 0);
  const [picked, setPicked] = useState(id ?? '');
  const system = picked || id || systems?.[0]?.id || '';
  return (
    <section aria-labelledby="report-title">
      <h1 id="report-title">{tr('report_title')}</h1>
      <ErrorBanner error={error} />
      <p class="muted">{tr('report_hint')}</p>
      <div class="card toolbar">
        <label>
          {tr('pick_system')}{' '}
          <select value={system} onChange={(e) => setPicked((e.target as HTMLSelectElement).value)}>
            {(systems ?? []).map((s) => (
              <option value={s.id}>{s.name}</option>
            ))}
          </select>
        </label>
        {system && (
          <>
            <a class="btn primary" id="report-pdf" href={reg.reportUrl(system, 'pdf')} target="_blank" rel="noopener">
              {tr('report_pdf')}
            </a>
            <a class="btn" id="report-html" href={reg.reportUrl(system, 'html')} target="_blank" rel="noopener">
              {tr('report_html')}
            </a>
          </>
        )}
      </div>
    </section>
  );
}
