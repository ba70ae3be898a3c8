// Inspection (J1): pick a system and an inspection type, answer every checklist item, finish →
// the rectification order (failed items and the system's open findings) is shown.
import { useState } from 'preact/hooks';
import { reg, type Checklist, type Order, type SystemSummary } from '../registry/api';
import { tr, trAny } from '../registry/i18n';
import { ErrorBanner, useLang, usePoll } from '../ui';

type Answer = 'pass' | 'fail' | 'not_applicable';

export function InspectionPage() {
  useLang();
  const [systems, sysError] = usePoll<SystemSummary[]>(() => reg.systems(), 0);
  const [lists, listError] = usePoll<Checklist[]>(() => reg.checklists(), 0);
  const [system, setSystem] = useState('');
  const [kind, setKind] = useState('filing');
  const [running, setRunning] = useState<{ id: number; checklist: Checklist; system: string } | null>(null);
  const [answers, setAnswers] = useState<Record<string, Answer>>({});
  const [notes, setNotes] = useState<Record<string, string>>({});
  const [days, setDays] = useState('');
  const [order, setOrder] = useState<{ order: Order | null; system: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const inspectable = (systems ?? []).filter((s) => s.may_inspect);
  const chosen = system || inspectable[0]?.id || '';

  const start = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setOrder(null);
    try {
      const r = await reg.start(chosen, kind);
      setRunning({ ...r, system: chosen });
      setAnswers({});
      setNotes({});
    } catch (err) {
      setError(err);
    }
  };

  const finish = async (e: Event) => {
    e.preventDefault();
    if (!running) return;
    setBusy(true);
    setError(null);
    try {
      for (const it of running.checklist.items) {
        await reg.answer(running.id, it.key, answers[it.key] ?? 'pass', notes[it.key] ?? '');
      }
      const r = await reg.finish(running.id, days ? Number(days) : undefined);
      setOrder({ order: r.order, system: running.system });
      setRunning(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="insp-title">
      <h1 id="insp-title">{tr('inspection_title')}</h1>
      <ErrorBanner error={sysError || listError} />
      <ErrorBanner error={error} onClose={() => setError(null)} />
      {!running && (
        <form class="card toolbar" id="inspection-start" onSubmit={start}>
          <label>
            {tr('pick_system')}{' '}
            <select name="system" value={chosen} onChange={(e) => setSystem((e.target as HTMLSelectElement).value)}>
              {inspectable.map((s) => (
                <option value={s.id}>{s.name}</option>
              ))}
            </select>
          </label>
          <label>
            {tr('inspection_type')}{' '}
            <select name="kind" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value)}>
              {(lists ?? []).map((l) => (
                <option value={l.kind}>{trAny(`type.${l.kind}`, l.kind)}</option>
              ))}
            </select>
          </label>
          <button type="submit" class="primary" disabled={!chosen}>
            {tr('start_inspection')}
          </button>
        </form>
      )}
      {running && (
        <form class="card" id="inspection-form" onSubmit={finish}>
          <h2>
            #{running.id} · {trAny(`type.${running.checklist.kind}`, running.checklist.kind)} · {running.system}
          </h2>
          <table class="grid checklist">
            <thead>
              <tr>
                <th scope="col">{tr('question')}</th>
                <th scope="col">{tr('article')}</th>
                <th scope="col">{tr('answer')}</th>
                <th scope="col">{tr('note')}</th>
              </tr>
            </thead>
            <tbody>
              {running.checklist.items.map((it) => (
                <tr data-item={it.key}>
                  <td>{it.question}</td>
                  <td class="mono">{it.article}</td>
                  <td>
                    {(['pass', 'fail', 'not_applicable'] as Answer[]).map((a) => (
                      <label class="radio">
                        <input
                          type="radio"
                          name={`a-${it.key}`}
                          value={a}
                          checked={(answers[it.key] ?? 'pass') === a}
                          onChange={() => setAnswers({ ...answers, [it.key]: a })}
                        />{' '}
                        {tr(a)}
                      </label>
                    ))}
                  </td>
                  <td>
                    <input value={notes[it.key] ?? ''} onInput={(e) => setNotes({ ...notes, [it.key]: (e.target as HTMLInputElement).value })} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <label>
            {tr('rectify_days')} <input type="number" min={1} max={365} value={days} onInput={(e) => setDays((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit" class="primary" id="finish-inspection" disabled={busy}>
            {tr('finish_inspection')}
          </button>
        </form>
      )}
      {order && (
        <div class="card" id="inspection-result" role="status">
          {order.order ? (
            <>
              <p class="banner denied">{tr('order_issued', { id: order.order.id, deadline: order.order.deadline })}</p>
              <h3>{tr('failed_items')}</h3>
              <ul>
                {(order.order.items.failed_items ?? []).map((f) => (
                  <li>
                    {f.item} · <span class="mono">{f.article}</span> {f.note}
                  </li>
                ))}
              </ul>
              <h3>{tr('open_findings')}</h3>
              <ul>
                {(order.order.items.findings ?? []).map((f) => (
                  <li class="mono">{f}</li>
                ))}
              </ul>
            </>
          ) : (
            <p class="banner ok">{tr('no_order')}</p>
          )}
          <a href={`#/report/${encodeURIComponent(order.system)}`} id="to-report">
            {tr('open_report')}
          </a>
        </div>
      )}
    </section>
  );
}
