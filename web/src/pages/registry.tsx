// Registry (A1–A3): the systems the caller has a registry right in, and one system's detail.
// Device rows arrive masked for callers without `read_basic_info` (A3) and are shown as masked;
// permitted callers can open one device's confidential fields (each read is audited).
import { useState } from 'preact/hooks';
import { reg, type Device, type SystemDetail, type SystemSummary } from '../registry/api';
import { tr, trAny } from '../registry/i18n';
import { ErrorBanner, useLang, usePoll } from '../ui';

export function RegistryPage({ id }: { id?: string }) {
  useLang();
  return id ? <SystemView id={id} /> : <SystemList />;
}

function SystemList() {
  const [list, error] = usePoll<SystemSummary[]>(() => reg.systems(), 0);
  return (
    <section aria-labelledby="reg-title">
      <h1 id="reg-title">{tr('systems')}</h1>
      <ErrorBanner error={error} />
      {list && list.length === 0 && <p class="muted">{tr('no_systems')}</p>}
      {list && list.length > 0 && (
        <table class="grid registry">
          <thead>
            <tr>
              <th scope="col">{tr('system')}</th>
              <th scope="col">{tr('division')}</th>
              <th scope="col">{tr('state')}</th>
              <th scope="col">{tr('devices')}</th>
              <th scope="col">{tr('profile')}</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {list.map((s) => (
              <tr data-system={s.id}>
                <td>
                  <a href={`#/registry/${encodeURIComponent(s.id)}`}>{s.name}</a>
                </td>
                <td class="mono">{s.division}</td>
                <td>{s.state}</td>
                <td>{s.devices}</td>
                <td>{s.profile}</td>
                <td>
                  <span class={`pill ${s.full ? 'ok' : 'warn'}`}>{s.full ? '✓' : tr('masked')}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

const isMasked = (d: Device) => d.code.includes('*');

function SystemView({ id }: { id: string }) {
  const [sys, error] = usePoll<SystemDetail>(() => reg.system(id), 0, [id]);
  const [open, setOpen] = useState<Device | null>(null);
  const [openError, setOpenError] = useState<unknown>(null);
  const [purpose, setPurpose] = useState('');
  const yn = (b: boolean) => (b ? tr('yes') : tr('no'));
  return (
    <section aria-labelledby="sys-title">
      <div class="toolbar">
        <a href="#/registry">← {tr('back')}</a>
        <a href={`#/report/${encodeURIComponent(id)}`}>{tr('open_report')}</a>
      </div>
      <h1 id="sys-title">{sys ? String(sys.system.name) : id}</h1>
      <ErrorBanner error={error} />
      <ErrorBanner error={openError} onClose={() => setOpenError(null)} />
      {sys && (
        <>
          <p class={`banner ${sys.full ? 'ok' : 'denied'}`} id="access-note">
            {sys.full ? tr('full_access') : tr('masked_access')}
          </p>
          <dl class="facts">
            <dt>{tr('state')}</dt>
            <dd>{sys.system.state}</dd>
            <dt>{tr('division')}</dt>
            <dd class="mono">{String(sys.system.division ?? '')}</dd>
            <dt>{tr('profile')}</dt>
            <dd>{String(sys.system.profile ?? '')}</dd>
          </dl>
          {sys.full && (
            <label>
              {tr('purpose')}{' '}
              <input value={purpose} onInput={(e) => setPurpose((e.target as HTMLInputElement).value)} />
            </label>
          )}
          <h2>{tr('devices')}</h2>
          <table class="grid devices">
            <thead>
              <tr>
                <th scope="col">{tr('code')}</th>
                <th scope="col">{tr('name')}</th>
                <th scope="col">{tr('kind')}</th>
                <th scope="col">{tr('vendor')}</th>
                <th scope="col">{tr('model')}</th>
                <th scope="col">{tr('position')}</th>
                <th scope="col">{tr('place')}</th>
                <th scope="col">{tr('signage')}</th>
                <th scope="col">{tr('online')}</th>
                <th scope="col" />
              </tr>
            </thead>
            <tbody>
              {sys.devices.map((d) => (
                <tr data-code={d.code} class={isMasked(d) ? 'masked' : ''}>
                  <td class="mono">{d.code}</td>
                  <td>{d.name}</td>
                  <td>{d.kind}</td>
                  <td>{d.vendor}</td>
                  <td>{isMasked(d) ? <em class="muted">{tr('masked')}</em> : d.model}</td>
                  <td class="mono">
                    {d.lon != null && d.lat != null ? `${d.lon.toFixed(5)}, ${d.lat.toFixed(5)}` : <em class="muted">{tr('masked')}</em>}
                  </td>
                  <td>{d.place_id ?? ''}</td>
                  <td>{yn(d.signage)}</td>
                  <td>{yn(d.online)}</td>
                  <td>
                    {!isMasked(d) && (
                      <button
                        type="button"
                        onClick={async () => {
                          setOpenError(null);
                          try {
                            setOpen(await reg.device(d.code, purpose));
                          } catch (e) {
                            setOpenError(e);
                          }
                        }}
                      >
                        {tr('show_device')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {open && (
            <pre class="card mono" id="device-detail">
              {JSON.stringify(open, null, 2)}
            </pre>
          )}
          <h2>{tr('deadlines')}</h2>
          <ul>
            {sys.deadlines.map((d) => (
              <li>
                {d.kind}: {d.due}
              </li>
            ))}
          </ul>
          <h2>{tr('documents')}</h2>
          <ul>
            {sys.documents.map((d) => (
              <li>
                {d.kind} · {d.title} · {d.dated}
              </li>
            ))}
          </ul>
          <h2>{tr('inspections')}</h2>
          <ul>
            {sys.inspections.map((i) => (
              <li>
                #{i.id} {trAny(`type.${i.kind}`, i.kind)} · {i.inspector} · {i.finished_at ? '✓' : '…'}
              </li>
            ))}
          </ul>
          <h2>{tr('orders')}</h2>
          <ul>
            {sys.orders.map((o) => (
              <li>
                #{o.id} · {tr('deadline')} {o.deadline} · {o.issued_by}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
