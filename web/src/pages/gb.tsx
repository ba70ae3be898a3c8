// GB/T 28181 devices: the devices that registered (online state, last keepalive, registry
// status), each one's catalog as a tree, live links for recorded channels, PTZ buttons
// (press and hold moves, release stops), and the platform / cascade status.
import { useState } from 'preact/hooks';
import { request, type Session } from '../api';
import { fmtTime, t } from '../i18n';
import { ErrorBanner, useLang, usePoll } from '../ui';

export interface GbChannel {
  id: string;
  name: string;
  parent_id: string;
  status: string;
  ptz: boolean;
  recorded: boolean;
  registry_status: string;
  /** The account may watch or play back this camera. */
  watch: boolean;
  /** The account may steer it now (live-view right, on duty). */
  control: boolean;
  /** Confidential (A3): present only for accounts that may read basic information. */
  address?: string;
  civil_code?: string;
  longitude?: number;
  latitude?: number;
}

export interface GbDevice {
  id: string;
  name: string;
  manufacturer: string;
  model: string;
  online: boolean;
  offline_reason?: string | null;
  last_keepalive?: string | null;
  registry_status: string;
  transport: string;
  recorded: boolean;
  watch: boolean;
  addr?: string;
  channels: GbChannel[];
}

export interface GbStatus {
  id: string;
  listen: string;
  devices: number;
  online: number;
  channels: number;
  media_sessions: number;
  cascade?: {
    upper_id: string;
    addr: string;
    registered: boolean;
    last_error?: string | null;
    keepalives_sent: number;
    catalog_answers: number;
    streams: number;
  } | null;
}

type Direction = 'up' | 'down' | 'left' | 'right';
type Zoom = 'in' | 'out';
interface PtzBody {
  direction?: Direction | 'stop';
  zoom?: Zoom;
  speed?: number;
}

export const gbApi = {
  devices: () => request<GbDevice[]>('GET', '/api/gb/devices'),
  status: () => request<{ running: boolean; status?: GbStatus | null }>('GET', '/api/gb/status'),
  ptz: (device: string, channel: string, body: PtzBody) =>
    request<unknown>('POST', `/api/gb/devices/${encodeURIComponent(device)}/channels/${encodeURIComponent(channel)}/ptz`, body),
};

/** Roles the page serves: configuration and basic information (administrator, maintainer,
 * police, inspector) or watching the channels (watch operator). */
export function gbNavVisible(s: Session): boolean {
  const roles = ['administrator', 'maintainer', 'watch_operator', 'police_officer', 'inspector'];
  return s.user.roles.some((r) => roles.includes(r.role));
}

const pill = (ok: boolean, text: string) => <span class={`pill ${ok ? 'ok' : 'bad'}`}>{text}</span>;

function registryPill(s: string) {
  const cls = s === 'accepted' ? 'ok' : s === 'rejected' ? 'bad' : 'warn';
  const label = s === 'accepted' ? t('gb_accepted') : s === 'rejected' ? t('gb_rejected') : t('gb_pending');
  return <span class={`pill ${cls}`}>{label}</span>;
}

/** Press and hold to move; release (or leaving the button) stops. */
function PtzPad({ device, channel, onError }: { device: string; channel: string; onError: (e: unknown) => void }) {
  const [speed, setSpeed] = useState(128);
  const [active, setActive] = useState<string | null>(null);
  const send = async (b: PtzBody) => {
    try {
      await gbApi.ptz(device, channel, b);
      onError(null);
    } catch (e) {
      onError(e);
    }
  };
  const start = (key: string, b: PtzBody) => {
    if (active === key) return;
    setActive(key);
    send({ ...b, speed });
  };
  const stop = () => {
    if (active === null) return;
    setActive(null);
    send({ direction: 'stop' });
  };
  const btn = (key: string, label: string, symbol: string, b: PtzBody) => (
    <button
      type="button"
      class={active === key ? 'active' : ''}
      aria-label={label}
      aria-pressed={active === key}
      title={label}
      style={{ minWidth: '2.4em', touchAction: 'none' }}
      onPointerDown={(e) => {
        (e.currentTarget as HTMLElement).setPointerCapture?.(e.pointerId);
        start(key, b);
      }}
      onPointerUp={stop}
      onPointerCancel={stop}
      onLostPointerCapture={stop}
      onKeyDown={(e) => {
        if ((e.key === 'Enter' || e.key === ' ') && !e.repeat) {
          e.preventDefault();
          start(key, b);
        }
      }}
      onKeyUp={(e) => {
        if (e.key === 'Enter' || e.key === ' ') stop();
      }}
      onBlur={stop}
    >
      {symbol}
    </button>
  );
  return (
    <span class="ptz" role="group" aria-label={t('gb_ptz')} style={{ display: 'inline-flex', gap: '4px', alignItems: 'center', flexWrap: 'wrap' }}>
      {btn('up', t('gb_ptz_up'), '▲', { direction: 'up' })}
      {btn('down', t('gb_ptz_down'), '▼', { direction: 'down' })}
      {btn('left', t('gb_ptz_left'), '◀', { direction: 'left' })}
      {btn('right', t('gb_ptz_right'), '▶', { direction: 'right' })}
      {btn('zin', t('gb_zoom_in'), '＋', { zoom: 'in' })}
      {btn('zout', t('gb_zoom_out'), '－', { zoom: 'out' })}
      <label class="muted" style={{ fontSize: '12px' }}>
        {t('gb_speed')}{' '}
        <input
          type="range"
          min={16}
          max={255}
          value={speed}
          aria-label={t('gb_speed')}
          onInput={(e) => setSpeed(Number((e.target as HTMLInputElement).value))}
        />
      </label>
    </span>
  );
}

interface Node {
  ch: GbChannel;
  children: Node[];
}

/** Channels nested by ParentID; channels whose parent is unknown hang under the device. */
export function channelTree(device: string, channels: GbChannel[]): Node[] {
  const nodes = new Map<string, Node>();
  for (const ch of channels) nodes.set(ch.id, { ch, children: [] });
  const roots: Node[] = [];
  for (const n of nodes.values()) {
    const p = n.ch.parent_id;
    const parent = p && p !== device && p !== n.ch.id ? nodes.get(p) : undefined;
    if (parent) parent.children.push(n);
    else roots.push(n);
  }
  return roots;
}

function ChannelTree({ device, nodes, onError }: { device: string; nodes: Node[]; onError: (e: unknown) => void }) {
  return (
    <ul role="group" style={{ listStyle: 'none', paddingLeft: '1.2em', margin: '4px 0' }}>
      {nodes.map((n) => (
        <li role="treeitem" aria-expanded={n.children.length ? true : undefined} key={n.ch.id} style={{ margin: '4px 0' }}>
          <span style={{ display: 'inline-flex', gap: '8px', alignItems: 'center', flexWrap: 'wrap' }}>
            <span aria-hidden="true">└</span>
            <strong>{n.ch.name || n.ch.id}</strong>
            <code class="muted">{n.ch.id}</code>
            {pill(n.ch.status.toUpperCase() === 'ON', n.ch.status.toUpperCase() === 'ON' ? t('gb_online') : t('gb_offline'))}
            {registryPill(n.ch.registry_status)}
            {n.ch.address !== undefined && (
              <span class="muted" title={t('gb_confidential')}>
                {n.ch.address}
                {n.ch.longitude != null && n.ch.latitude != null ? ` (${n.ch.longitude}, ${n.ch.latitude})` : ''}
              </span>
            )}
            {n.ch.recorded && n.ch.watch && <a href={`#/camera/${encodeURIComponent(n.ch.id)}`}>{t('gb_live')}</a>}
            {n.ch.ptz && n.ch.control && <PtzPad device={device} channel={n.ch.id} onError={onError} />}
          </span>
          {n.children.length > 0 && <ChannelTree device={device} nodes={n.children} onError={onError} />}
        </li>
      ))}
    </ul>
  );
}

function StatusBox({ state }: { state: { running: boolean; status?: GbStatus | null } | null }) {
  if (state && !state.running)
    return (
      <p class="muted" id="gb-status">
        {t('gb_not_running')}
      </p>
    );
  const s = state?.status;
  if (!s) return null;
  const c = s.cascade;
  return (
    <div class="card" id="gb-status" style={{ display: 'flex', gap: '24px', flexWrap: 'wrap', margin: '8px 0' }}>
      <div>
        <div class="muted">{t('gb_platform')}</div>
        <code>{s.id}</code> @ <code>{s.listen}</code>
      </div>
      <div>
        <div class="muted">{t('gb_devices_online')}</div>
        {s.online} / {s.devices}
      </div>
      <div>
        <div class="muted">{t('gb_channels')}</div>
        {s.channels}
      </div>
      <div>
        <div class="muted">{t('gb_media_sessions')}</div>
        {s.media_sessions}
      </div>
      <div>
        <div class="muted">{t('gb_cascade')}</div>
        {c ? (
          <span>
            {pill(c.registered, c.registered ? t('gb_registered') : t('gb_not_registered'))} <code>{c.upper_id}</code> @ <code>{c.addr}</code>{' '}
            <span class="muted">
              {t('gb_cascade_counts', { k: c.keepalives_sent, c: c.catalog_answers, s: c.streams })}
            </span>
            {c.last_error && <div class="muted">{c.last_error}</div>}
          </span>
        ) : (
          <span class="muted">{t('gb_no_cascade')}</span>
        )}
      </div>
    </div>
  );
}

export function GbPage() {
  useLang();
  const [devs, error] = usePoll<GbDevice[]>(gbApi.devices, 5_000);
  const [status, statusError] = usePoll(gbApi.status, 5_000);
  const [open, setOpen] = useState<Set<string>>(new Set());
  const [ptzError, setPtzError] = useState<unknown>(null);
  const toggle = (id: string) => {
    const n = new Set(open);
    if (n.has(id)) n.delete(id);
    else n.add(id);
    setOpen(n);
  };
  const showAddr = !!devs?.some((d) => d.addr !== undefined);
  return (
    <section aria-labelledby="gb-title">
      <div class="toolbar">
        <h1 id="gb-title">{t('gb_title')}</h1>
        <span class="muted">{t('refreshed')}</span>
      </div>
      <ErrorBanner error={error} />
      <ErrorBanner error={statusError} />
      <ErrorBanner error={ptzError} onClose={() => setPtzError(null)} />
      <StatusBox state={status} />
      {devs && devs.length === 0 && <p class="muted">{t('gb_none')}</p>}
      {devs && devs.length > 0 && (
        <table class="grid" id="gb-devices">
          <thead>
            <tr>
              <th>{t('gb_device')}</th>
              <th>{t('gb_state')}</th>
              <th>{t('gb_last_keepalive')}</th>
              <th>{t('gb_registry')}</th>
              <th>{t('gb_transport')}</th>
              {showAddr && <th title={t('gb_confidential')}>{t('gb_address')}</th>}
              <th>{t('gb_channels')}</th>
            </tr>
          </thead>
          <tbody>
            {devs.map((d) => {
              const isOpen = open.has(d.id);
              return [
                <tr key={d.id} data-device={d.id}>
                  <td>
                    <strong>{d.name || d.id}</strong>
                    <div>
                      <code class="muted">{d.id}</code>
                    </div>
                    {(d.manufacturer || d.model) && <div class="muted">{`${d.manufacturer} ${d.model}`.trim()}</div>}
                  </td>
                  <td>
                    {pill(d.online, d.online ? t('gb_online') : t('gb_offline'))}
                    {!d.online && d.offline_reason && <div class="muted">{d.offline_reason}</div>}
                  </td>
                  <td>{d.last_keepalive ? fmtTime(d.last_keepalive) : '—'}</td>
                  <td>{registryPill(d.registry_status)}</td>
                  <td>{d.transport}</td>
                  {showAddr && <td>{d.addr ?? ''}</td>}
                  <td>
                    <button type="button" class="link" aria-expanded={isOpen} onClick={() => toggle(d.id)}>
                      {isOpen ? '▾' : '▸'} {t('gb_channel_count', { n: d.channels.length })}
                    </button>
                    {d.recorded && d.watch && (
                      <>
                        {' '}
                        <a href={`#/camera/${encodeURIComponent(d.id)}`}>{t('gb_live')}</a>
                      </>
                    )}
                  </td>
                </tr>,
                isOpen && (
                  <tr key={`${d.id}-channels`}>
                    <td colSpan={showAddr ? 7 : 6}>
                      {d.channels.length === 0 ? (
                        <span class="muted">{t('gb_no_channels')}</span>
                      ) : (
                        <div role="tree" aria-label={t('gb_catalog')}>
                          <ChannelTree device={d.id} nodes={channelTree(d.id, d.channels)} onError={setPtzError} />
                        </div>
                      )}
                    </td>
                  </tr>
                ),
              ];
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
