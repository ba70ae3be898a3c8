// Camera wall: 1/4/9/16 tiles of live video (sub stream when the camera has one), paged;
// double-click or Enter shows one camera full screen on its main stream.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, urls, type Camera } from '../api';
import { t } from '../i18n';
import { LivePlayer, type PlayerState } from '../player';
import { ErrorBanner, hasRole, useApp, useLang, usePoll } from '../ui';

const LAYOUTS = [1, 4, 9, 16] as const;
const LAYOUT_KEY = 'custos.layout';

function stateText(s: PlayerState): string {
  switch (s.kind) {
    case 'connecting':
      return t('state_connecting');
    case 'waiting':
      return t('state_waiting');
    case 'playing':
      return `${t('state_playing')} · ${s.firstFrameMs} ms`;
    case 'reconnecting':
      return t('state_reconnecting', { s: s.inSeconds });
    case 'denied':
      return `${t('state_denied')}: ${s.reason}`;
    case 'unsupported':
      return `${t('state_unsupported')} (${s.mime})`;
  }
}

export function LiveVideo({ camera, stream, label }: { camera: string; stream: 'main' | 'sub'; label: string }) {
  useLang();
  const ref = useRef<HTMLVideoElement>(null);
  const [state, setState] = useState<PlayerState>({ kind: 'connecting' });
  const [size, setSize] = useState('');
  useEffect(() => {
    const p = new LivePlayer(ref.current!, urls.live(camera, stream), {
      onState: setState,
      onInfo: (i) => setSize(i.width && i.height ? `${i.width}×${i.height}` : ''),
    });
    return () => p.close();
  }, [camera, stream]);
  return (
    <div
      class="live"
      data-camera={camera}
      data-stream={stream}
      data-state={state.kind}
      data-first-frame-ms={state.kind === 'playing' ? state.firstFrameMs : undefined}
    >
      <video ref={ref} muted playsInline autoPlay aria-label={label} />
      <div class={`overlay ${state.kind}`} aria-live="polite">
        <span class="cam-name">{camera}</span>
        <span class="cam-state">
          {stateText(state)} · {stream === 'main' ? t('stream_main') : t('stream_sub')} {size}
        </span>
      </div>
    </div>
  );
}

function Tile({ cam, onFull }: { cam: Camera; onFull: () => void }) {
  const stream = cam.streams.some((s) => s.kind === 'sub') ? 'sub' : 'main';
  return (
    <div
      class="tile"
      tabIndex={0}
      role="group"
      aria-label={cam.name}
      onDblClick={onFull}
      onKeyDown={(e) => {
        if (e.key === 'Enter' && e.target === e.currentTarget) onFull();
      }}
    >
      <LiveVideo camera={cam.name} stream={stream} label={`${cam.name} ${t('live')}`} />
      <div class="tile-actions">
        <a href={`#/camera/${encodeURIComponent(cam.name)}`} class="btn small">
          {t('open_camera')}
        </a>
        <button type="button" class="small" onClick={onFull} title={t('fullscreen')} aria-label={`${t('fullscreen')} ${cam.name}`}>
          {t('fullscreen_short')}
        </button>
      </div>
    </div>
  );
}

function initialLayout(): number {
  const v = Number(localStorage.getItem(LAYOUT_KEY));
  return (LAYOUTS as readonly number[]).includes(v) ? v : 4;
}

export function Wall() {
  useLang();
  const { session } = useApp();
  const [layout, setLayoutState] = useState(initialLayout);
  const [page, setPage] = useState(0);
  const [full, setFull] = useState<string | null>(null);
  const fullRef = useRef<HTMLDivElement>(null);
  const [cams, error] = usePoll(api.cameras, 30_000);

  const setLayout = (n: number) => {
    setLayoutState(n);
    setPage(0);
    localStorage.setItem(LAYOUT_KEY, String(n));
  };
  const list = cams ?? [];
  const pages = Math.max(1, Math.ceil(list.length / layout));
  const shown = list.slice(page * layout, page * layout + layout);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const tag = (e.target as HTMLElement).tagName;
      if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA') return;
      if (e.key === 'Escape' && full) setFull(null);
      else if (['1', '2', '3', '4'].includes(e.key) && !full) setLayout(LAYOUTS[Number(e.key) - 1]);
      else if (e.key === 'ArrowRight' && !full) setPage((p) => Math.min(p + 1, pages - 1));
      else if (e.key === 'ArrowLeft' && !full) setPage((p) => Math.max(p - 1, 0));
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [full, pages]);

  useEffect(() => {
    if (full && fullRef.current) {
      fullRef.current.focus();
      fullRef.current.requestFullscreen?.().catch(() => undefined);
    } else if (!full && document.fullscreenElement) {
      document.exitFullscreen().catch(() => undefined);
    }
  }, [full]);
  useEffect(() => {
    const f = () => {
      if (!document.fullscreenElement) setFull(null);
    };
    document.addEventListener('fullscreenchange', f);
    return () => document.removeEventListener('fullscreenchange', f);
  }, []);

  const onlyWatch =
    hasRole(session, 'watch_operator') &&
    !['police_officer', 'police_approver', 'inspector'].some((r) => hasRole(session, r));
  const needDuty = onlyWatch && !session.user.on_duty;

  return (
    <section class="wall-page" aria-labelledby="wall-title">
      <div class="toolbar">
        <h1 id="wall-title">{t('nav_wall')}</h1>
        <div role="group" aria-label={t('layout')} class="seg">
          {LAYOUTS.map((n) => (
            <button type="button" aria-pressed={layout === n} class={layout === n ? 'on' : ''} onClick={() => setLayout(n)} data-layout={n}>
              {n}
            </button>
          ))}
        </div>
        {pages > 1 && (
          <div class="pager">
            <button type="button" onClick={() => setPage(Math.max(0, page - 1))} disabled={page === 0} aria-label={t('prev_page')}>
              ‹
            </button>
            <span>
              {t('page')} {page + 1}/{pages}
            </span>
            <button type="button" onClick={() => setPage(Math.min(pages - 1, page + 1))} disabled={page >= pages - 1} aria-label={t('next_page')}>
              ›
            </button>
          </div>
        )}
        <span class="muted hint">{t('shortcuts')}</span>
      </div>
      <ErrorBanner error={error} />
      {needDuty ? (
        <p class="banner warn" role="status" id="duty-needed">
          {t('duty_needed')}
        </p>
      ) : cams && list.length === 0 ? (
        <p class="banner info" role="status" id="no-cameras">
          {t('no_cameras')}
        </p>
      ) : full ? (
        <div class="full" ref={fullRef} tabIndex={-1} onDblClick={() => setFull(null)}>
          <LiveVideo camera={full} stream="main" label={`${full} ${t('live')}`} />
          <button type="button" class="exit-full" onClick={() => setFull(null)}>
            {t('exit_fullscreen')}
          </button>
        </div>
      ) : (
        <div class={`wall grid-${layout}`}>
          {shown.map((c) => (
            <Tile key={c.name} cam={c} onFull={() => setFull(c.name)} />
          ))}
        </div>
      )}
    </section>
  );
}
