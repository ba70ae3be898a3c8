// Health dashboard: per stream state, fps and bitrate (with a chart of the last minutes),
// 24-hour completeness, disk use, capacity in days against the legal minimum, the ledger.
import { useRef } from 'preact/hooks';
import { api, type Health } from '../api';
import { fmtBitrate, fmtBytes, fmtTime, t } from '../i18n';
import { ErrorBanner, useLang, usePoll } from '../ui';

const HISTORY = 120; // samples (10 minutes at 5 s)

/** A small line chart; values are drawn against [0, max]. */
export function Spark({ values, max, label, unit }: { values: number[]; max?: number; label: string; unit: string }) {
  const W = 160;
  const H = 36;
  const top = Math.max(max ?? 0, ...values, 1e-9);
  const pts = values.map((v, i) => `${(i / Math.max(1, HISTORY - 1)) * W},${H - 2 - (v / top) * (H - 4)}`).join(' ');
  const last = values.length ? values[values.length - 1] : 0;
  return (
    <svg class="spark" width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${label}: ${unit}`}>
      <title>{`${label}: ${unit}`}</title>
      <line x1={0} x2={W} y1={H - 2} y2={H - 2} class="axis" />
      {values.length > 1 && <polyline points={pts} />}
      {values.length > 0 && <circle cx={((values.length - 1) / Math.max(1, HISTORY - 1)) * W} cy={H - 2 - (last / top) * (H - 4)} r={2} />}
    </svg>
  );
}

function Bar({ frac, bad, label }: { frac: number; bad?: boolean; label: string }) {
  const p = Math.max(0, Math.min(1, frac));
  return (
    <div class={`bar ${bad ? 'bad' : ''}`} role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(p * 100)} aria-label={label}>
      <div style={{ width: `${p * 100}%` }} />
    </div>
  );
}

export function HealthPage() {
  useLang();
  const hist = useRef(new Map<string, { fps: number[]; bps: number[] }>());
  const [h, error] = usePoll<Health>(async () => {
    const v = await api.health();
    for (const c of v.cameras)
      for (const s of c.streams) {
        const k = `${c.name}/${s.kind}`;
        const e = hist.current.get(k) ?? { fps: [], bps: [] };
        e.fps.push(s.fps);
        e.bps.push(s.bitrate_bps);
        if (e.fps.length > HISTORY) e.fps.shift();
        if (e.bps.length > HISTORY) e.bps.shift();
        hist.current.set(k, e);
      }
    return v;
  }, 5_000);

  return (
    <section aria-labelledby="health-title">
      <div class="toolbar">
        <h1 id="health-title">{t('health_title')}</h1>
        <span class="muted">{t('refreshed')}</span>
      </div>
      <ErrorBanner error={error} />
      {h && (
        <>
          {h.alarms && h.alarms.length > 0 && (
            <div class="banner warn" role="status">
              <strong>{t('alarms')}:</strong>
              <ul>
                {h.alarms.map((a) => (
                  <li>{a}</li>
                ))}
              </ul>
            </div>
          )}
          <div class="cards">
            <div class="card">
              <h2>{t('disk')}</h2>
              <p class="mono">{h.disk.path}</p>
              <Bar frac={1 - h.disk.free_bytes / Math.max(1, h.disk.total_bytes)} bad={h.disk.free_bytes / Math.max(1, h.disk.total_bytes) < 0.1} label={t('disk')} />
              <p>{t('disk_free', { free: fmtBytes(h.disk.free_bytes), total: fmtBytes(h.disk.total_bytes) })}</p>
            </div>
            <div class="card">
              <h2>{t('ledger')}</h2>
              <p>{t('ledger_entries', { n: h.ledger.entries })}</p>
              <p class="muted">
                {t('last_checkpoint')}: {h.ledger.last_checkpoint ? fmtTime(h.ledger.last_checkpoint) : '—'}
              </p>
            </div>
          </div>
          <table class="grid health">
            <caption class="sr">{t('health_title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('camera')}</th>
                <th scope="col">{t('stream')}</th>
                <th scope="col">{t('state')}</th>
                <th scope="col">{t('fps')}</th>
                <th scope="col">{t('bitrate')}</th>
                <th scope="col">{t('last_frame')}</th>
                <th scope="col">{t('completeness')}</th>
                <th scope="col">{t('capacity')}</th>
              </tr>
            </thead>
            <tbody>
              {h.cameras.flatMap((c) => {
                const cap = h.capacity.find((x) => x.camera === c.name);
                const below = cap ? cap.days < cap.minimum_days : false;
                const comp = c.completeness_24h === null || c.completeness_24h === undefined ? null : c.completeness_24h / 100;
                return c.streams.map((s, i) => {
                  const hs = hist.current.get(`${c.name}/${s.kind}`) ?? { fps: [], bps: [] };
                  const online = /online|ok|recording|streaming|connected|up|live/i.test(s.state) && !/offline|down|stale/i.test(s.state);
                  return (
                    <tr data-camera={c.name} data-stream={s.kind}>
                      {i === 0 && (
                        <th scope="row" rowSpan={c.streams.length}>
                          <a href={`#/camera/${encodeURIComponent(c.name)}`}>{c.name}</a>
                        </th>
                      )}
                      <td>{s.kind === 'main' ? t('stream_main') : t('stream_sub')}</td>
                      <td>
                        <span class={`pill ${online ? 'ok' : 'bad'}`}>{s.state}</span>
                      </td>
                      <td>
                        {s.fps.toFixed(1)}
                        <Spark values={hs.fps} label={`${c.name} ${s.kind} ${t('fps')}`} unit={s.fps.toFixed(1)} />
                      </td>
                      <td>
                        {fmtBitrate(s.bitrate_bps)}
                        <Spark values={hs.bps} label={`${c.name} ${s.kind} ${t('bitrate')}`} unit={fmtBitrate(s.bitrate_bps)} />
                      </td>
                      <td>{s.last_frame ? fmtTime(s.last_frame) : '—'}</td>
                      {i === 0 && (
                        <td rowSpan={c.streams.length}>
                          {comp === null ? (
                            '—'
                          ) : (
                            <>
                              {(comp * 100).toFixed(2)} %
                              <Bar frac={comp} bad={comp < 0.99} label={`${c.name} ${t('completeness')}`} />
                            </>
                          )}
                        </td>
                      )}
                      {i === 0 && (
                        <td rowSpan={c.streams.length}>
                          {cap ? (
                            <>
                              {t('capacity_days', { days: cap.days.toFixed(1), min: cap.minimum_days })}
                              <Bar frac={cap.days / Math.max(1, cap.minimum_days * 2)} bad={below} label={`${c.name} ${t('capacity')}`} />
                              {below && <span class="pill bad">{t('below_minimum')}</span>}
                            </>
                          ) : (
                            '—'
                          )}
                        </td>
                      )}
                    </tr>
                  );
                });
              })}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
