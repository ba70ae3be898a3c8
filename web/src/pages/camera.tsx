// One camera: live main stream or playback of a recorded instant, the timeline with spans,
// gaps and bookmarks, thumbnails along the visible window, speed, frame step and export.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, urls, type Recordings } from '../api';
import { fmtTime, t } from '../i18n';
import { pan, Timeline, zoom, type View, MAX_SPAN_MS, MIN_SPAN_MS } from '../timeline';
import { ErrorBanner, useLang, usePoll } from '../ui';
import { LiveVideo } from './wall';
import { ReportSuspicious } from './suspicious';

const SPEEDS = [0.5, 1, 2, 4, 8, 16];
/** Longest stretch one playback request asks for; playing on past it requests the next one. */
const PLAY_CHUNK_MS = 30 * 60_000;

const toLocalInput = (ms: number) => {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 19);
};
const fromLocalInput = (s: string) => new Date(s).getTime();

/**
 * The range the export form starts with: from the play head (or the first recording in the
 * window) to the end of the recordings in the window, at most 10 minutes.
 */
function exportDefaults(rec: Recordings | null, view: View, playhead: number | null): { defaultFrom: number; defaultTo: number } {
  const spans = (rec?.spans ?? [])
    .map((s) => [Date.parse(s.start), Date.parse(s.end)] as const)
    .filter(([a, b]) => b > view.from && a < view.to);
  const first = spans.length ? Math.max(view.from, Math.min(...spans.map(([a]) => a))) : view.from;
  const last = spans.length ? Math.min(view.to, Math.max(...spans.map(([, b]) => b))) : Math.min(view.to, Date.now());
  const from = playhead ?? first;
  const to = Math.min(last, from + 10 * 60_000);
  return { defaultFrom: from, defaultTo: to > from ? to : from + 60_000 };
}

/** The instant to start playing for a click at `at`: inside a span, else the next span start. */
function playableFrom(rec: Recordings | null, at: number): number | null {
  if (!rec) return null;
  let best: number | null = null;
  for (const s of rec.spans) {
    const a = Date.parse(s.start);
    const b = Date.parse(s.end);
    if (at >= a && at < b) return at;
    if (a > at && (best === null || a < best)) best = a;
  }
  return best;
}

export function CameraPage({ name }: { name: string }) {
  useLang();
  const [view, setView] = useState<View>(() => {
    const now = Date.now();
    return { from: now - 3_600_000, to: now + 60_000 };
  });
  const [rec, setRec] = useState<Recordings | null>(null);
  const [recError, setRecError] = useState<unknown>(null);
  const [play, setPlay] = useState<{ from: number; to: number } | null>(null);
  const [playhead, setPlayhead] = useState<number | null>(null);
  const [speed, setSpeed] = useState(1);
  const [notice, setNotice] = useState('');
  const [thumbs, setThumbs] = useState(true);
  const [paused, setPaused] = useState(false);
  const [badThumbs, setBadThumbs] = useState<Set<number>>(new Set());
  const video = useRef<HTMLVideoElement>(null);
  const [cams] = usePoll(api.cameras, 0);
  const cam = cams?.find((c) => c.name === name);
  const fps = cam?.streams.find((s) => s.kind === 'main')?.fps || 15;

  // Recordings for the visible window (plus margin), refreshed while the window shows "now".
  useEffect(() => {
    let alive = true;
    let timer = 0;
    const load = async () => {
      const margin = (view.to - view.from) * 0.25;
      try {
        const r = await api.recordings(name, view.from - margin, view.to + margin);
        if (alive) {
          setRec(r);
          setRecError(null);
        }
      } catch (e) {
        if (alive) setRecError(e);
      }
      if (alive && view.to > Date.now() - 60_000) timer = window.setTimeout(load, 5_000);
    };
    const debounce = window.setTimeout(load, 150);
    return () => {
      alive = false;
      window.clearTimeout(debounce);
      window.clearTimeout(timer);
    };
  }, [name, view.from, view.to]);

  /** Shows the whole extent of the loaded recordings and gaps. */
  const fit = (r: Recordings | null) => {
    if (!r) return;
    const all = [...r.spans, ...r.gaps].flatMap((x) => [Date.parse(x.start), Date.parse(x.end)]).filter((x) => !isNaN(x));
    if (all.length === 0) return;
    const a = Math.min(...all);
    const b = Math.max(...all);
    const margin = Math.max(2000, (b - a) * 0.05);
    const span = Math.min(MAX_SPAN_MS, Math.max(MIN_SPAN_MS, b - a + 2 * margin));
    setView({ from: a - margin, to: a - margin + span });
  };

  const pick = (at: number) => {
    const from = playableFrom(rec, at);
    if (from === null) {
      setNotice(`${t('no_recording_here')}: ${fmtTime(at)}`);
      return;
    }
    setNotice('');
    setPlay({ from, to: Math.min(from + PLAY_CHUNK_MS, Date.now()) });
    setPlayhead(from);
  };

  useEffect(() => {
    const v = video.current;
    if (!v || !play) return;
    v.playbackRate = speed;
    v.play().catch(() => undefined);
  }, [play]);
  useEffect(() => {
    if (video.current) video.current.playbackRate = speed;
  }, [speed]);

  const step = (dir: 1 | -1) => {
    const v = video.current;
    if (!v) return;
    v.pause();
    v.currentTime = Math.max(0, v.currentTime + dir / fps);
  };

  // Space play/pause, , and . frame step (while a playback is open).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const tag = (e.target as HTMLElement).tagName;
      if (!play || tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA' || tag === 'BUTTON') return;
      const v = video.current;
      if (!v) return;
      if (e.key === ' ') {
        e.preventDefault();
        if (v.paused) v.play().catch(() => undefined);
        else v.pause();
      } else if (e.key === ',') step(-1);
      else if (e.key === '.') step(1);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [play, fps]);

  const thumbTimes = useMemo(() => {
    if (!thumbs || !rec) return [];
    const n = 8;
    const out: { at: number; has: boolean }[] = [];
    for (let i = 0; i < n; i++) {
      const at = view.from + ((i + 0.5) / n) * (view.to - view.from);
      // Round so that small pans reuse cached images.
      const step = Math.max(1000, (view.to - view.from) / 64);
      const r = Math.round(at / step) * step;
      out.push({ at: r, has: playableFrom(rec, r) === r && r < Date.now() - 2000 });
    }
    return out;
  }, [thumbs, rec, view.from, view.to]);

  return (
    <section class="camera-page" aria-labelledby="cam-title">
      <div class="toolbar">
        <a href="#/wall" class="btn small">
          ← {t('nav_wall')}
        </a>
        <h1 id="cam-title">{name}</h1>
        {cam && (
          <span class="muted">
            {cam.streams.map((s) => `${s.kind} ${s.width ?? '?'}×${s.height ?? '?'} ${s.codec ?? ''} ${s.fps.toFixed(1)} fps`).join(' · ')}
          </span>
        )}
        <span class="spacer" />
        <ReportSuspicious camera={name} at={playhead} />
        {play ? (
          <span class="pill info">
            {t('playback')} · {fmtTime(playhead ?? play.from)}
          </span>
        ) : (
          <span class="pill ok">{t('live')}</span>
        )}
      </div>
      <div class="player">
        {play ? (
          <video
            id="playback"
            ref={video}
            key={`${play.from}`}
            src={urls.view(name, play.from, play.to)}
            muted
            playsInline
            autoPlay
            aria-label={`${name} ${t('playback')} ${fmtTime(play.from)}`}
            onPlay={() => setPaused(false)}
            onPause={() => setPaused(true)}
            onTimeUpdate={(e) => setPlayhead(play.from + (e.currentTarget as HTMLVideoElement).currentTime * 1000)}
            onEnded={() => {
              if (play.to < Date.now() - 5000) pick(play.to);
            }}
          />
        ) : (
          <LiveVideo camera={name} stream="main" label={`${name} ${t('live')}`} />
        )}
      </div>
      <div class="controls" role="toolbar" aria-label={t('playback')}>
        <button type="button" onClick={() => setView(zoom(view, 0.5))} disabled={view.to - view.from <= MIN_SPAN_MS} aria-label={t('zoom_in')}>
          ＋
        </button>
        <button type="button" onClick={() => setView(zoom(view, 2))} disabled={view.to - view.from >= MAX_SPAN_MS} aria-label={t('zoom_out')}>
          －
        </button>
        <button type="button" onClick={() => setView(pan(view, -0.5))} aria-label={t('earlier')}>
          ◀
        </button>
        <button type="button" onClick={() => setView(pan(view, 0.5))} aria-label={t('later')}>
          ▶
        </button>
        <button
          type="button"
          onClick={() => {
            const span = view.to - view.from;
            const now = Date.now();
            setView({ from: now - span * 0.9, to: now + span * 0.1 });
          }}
        >
          {t('now')}
        </button>
        <button type="button" id="fit-recordings" onClick={() => fit(rec)} disabled={!rec || rec.spans.length === 0}>
          {t('fit_recordings')}
        </button>
        <span class="muted">
          {t('window')}: {fmtTime(view.from)} – {fmtTime(view.to)}
        </span>
        <span class="spacer" />
        {play && (
          <>
            <button type="button" id="frame-back" onClick={() => step(-1)} title={`${t('frame_back')} (,)`}>
              {t('frame_back')}
            </button>
            <button
              type="button"
              id="play-pause"
              onClick={() => {
                const v = video.current;
                if (v) v.paused ? v.play().catch(() => undefined) : v.pause();
              }}
              title={`${t('play')}/${t('pause')} (Space)`}
            >
              {paused ? t('play') : t('pause')}
            </button>
            <button type="button" id="frame-forward" onClick={() => step(1)} title={`${t('frame_forward')} (.)`}>
              {t('frame_forward')}
            </button>
            <label>
              {t('speed')}{' '}
              <select value={speed} onChange={(e) => setSpeed(Number((e.target as HTMLSelectElement).value))}>
                {SPEEDS.map((s) => (
                  <option value={s}>{s}×</option>
                ))}
              </select>
            </label>
            <button
              type="button"
              onClick={() => {
                setPlay(null);
                setPlayhead(null);
              }}
            >
              {t('back_to_live')}
            </button>
          </>
        )}
      </div>
      <Timeline camera={name} view={view} rec={rec} playhead={playhead} onView={setView} onPick={pick} />
      <p class="muted hint">{t('timeline_shortcuts')}</p>
      {notice && (
        <p class="banner info" role="status">
          {notice}
        </p>
      )}
      <ErrorBanner error={recError} />
      <label class="check">
        <input type="checkbox" checked={thumbs} onChange={(e) => setThumbs((e.target as HTMLInputElement).checked)} /> {t('thumbnails')}
      </label>
      {thumbs && (
        <div class="thumbs">
          {thumbTimes.map((th) =>
            th.has && !badThumbs.has(th.at) ? (
              <button type="button" class="thumb" onClick={() => pick(th.at)} title={`${t('play_from')} ${fmtTime(th.at)}`}>
                <img
                  src={urls.thumbnail(name, th.at, 160)}
                  alt={`${name} ${fmtTime(th.at)}`}
                  loading="lazy"
                  width={160}
                  height={90}
                  onError={() => setBadThumbs((s) => new Set(s).add(th.at))}
                />
                <span>{fmtTime(th.at, false)}</span>
              </button>
            ) : (
              <div class="thumb empty" aria-hidden="true" />
            ),
          )}
        </div>
      )}
      <ExportForm camera={name} {...exportDefaults(rec, view, playhead)} />
    </section>
  );
}

function ExportForm({ camera, defaultFrom, defaultTo }: { camera: string; defaultFrom: number; defaultTo: number }) {
  useLang();
  const [open, setOpen] = useState(false);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [purpose, setPurpose] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ id: string; url: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const ref = useRef<HTMLDetailsElement>(null);

  return (
    <details
      class="card export"
      id="export"
      ref={ref}
      open={open}
      onToggle={() => {
        const o = ref.current!.open;
        setOpen(o);
        if (o) {
          setFrom(toLocalInput(defaultFrom));
          setTo(toLocalInput(defaultTo));
        }
      }}
    >
      <summary>{t('export')}</summary>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          setResult(null);
          try {
            setResult(await api.exportClip(camera, fromLocalInput(from), fromLocalInput(to), purpose));
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        <label>
          {t('export_from')}
          <input type="datetime-local" step={1} required value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {t('export_to')}
          <input type="datetime-local" step={1} required value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} />
        </label>
        <label class="wide">
          {t('export_purpose')}
          <input required minLength={4} name="purpose" value={purpose} onInput={(e) => setPurpose((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          {t('export_request')}
        </button>
      </form>
      <ErrorBanner error={error} />
      {result && (
        <p class="banner ok" role="status">
          {t('export_ready')} <a href={result.url || `/api/exports/${encodeURIComponent(result.id)}/file`}>{t('download')}</a>
        </p>
      )}
    </details>
  );
}
