// The timeline of one camera: recorded spans, gaps and bookmarks over a visible window that
// zooms from a week down to seconds (wheel, buttons, +/− keys) and pans (drag, arrow keys).
// A click asks to play from that instant.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Recordings } from './api';
import { fmtTime, t } from './i18n';

export const MIN_SPAN_MS = 10_000;
export const MAX_SPAN_MS = 7 * 86_400_000;

export interface View {
  from: number;
  to: number;
}

const STEPS = [
  1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000,
  3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
];

/** Zooms `v` by `factor` (<1 zooms in) keeping the instant `at` under the same pixel. */
export function zoom(v: View, factor: number, at = (v.from + v.to) / 2): View {
  const span = Math.min(MAX_SPAN_MS, Math.max(MIN_SPAN_MS, (v.to - v.from) * factor));
  const frac = (at - v.from) / (v.to - v.from);
  const from = at - span * frac;
  return { from, to: from + span };
}

export function pan(v: View, frac: number): View {
  const d = (v.to - v.from) * frac;
  return { from: v.from + d, to: v.to + d };
}

function ticks(v: View, width: number): number[] {
  const span = v.to - v.from;
  const step = STEPS.find((s) => (s / span) * width >= 90) ?? 86_400_000;
  const tz = new Date().getTimezoneOffset() * 60_000;
  const first = Math.ceil((v.from - tz) / step) * step + tz;
  const out: number[] = [];
  for (let x = first; x <= v.to; x += step) out.push(x);
  return out;
}

export function Timeline(props: {
  camera: string;
  view: View;
  rec: Recordings | null;
  playhead: number | null;
  onView: (v: View) => void;
  onPick: (at: number) => void;
}) {
  const { view, rec, playhead, onView, onPick } = props;
  const wrap = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(800);
  const [hover, setHover] = useState<number | null>(null);
  const drag = useRef<{ x: number; view: View; moved: boolean } | null>(null);
  const H = 64;
  const BAR_Y = 8;
  const BAR_H = 30;

  useEffect(() => {
    const el = wrap.current!;
    const ro = new ResizeObserver(() => setWidth(Math.max(200, el.clientWidth)));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const span = view.to - view.from;
  const x = (ms: number) => ((ms - view.from) / span) * width;
  const msAt = (px: number) => view.from + (px / width) * span;
  const clampX = (ms: number) => Math.min(width, Math.max(0, x(ms)));
  const pxOf = (e: MouseEvent) => e.clientX - (e.currentTarget as SVGElement).getBoundingClientRect().left;

  const onWheel = (e: WheelEvent) => {
    e.preventDefault();
    onView(zoom(view, e.deltaY > 0 ? 1.25 : 0.8, msAt(pxOf(e))));
  };
  const onKey = (e: KeyboardEvent) => {
    const k = e.key;
    if (k === '+' || k === '=') onView(zoom(view, 0.5));
    else if (k === '-' || k === '_') onView(zoom(view, 2));
    else if (k === 'ArrowLeft') onView(pan(view, -0.2));
    else if (k === 'ArrowRight') onView(pan(view, 0.2));
    else if (k === 'Enter') onPick((view.from + view.to) / 2);
    else return;
    e.preventDefault();
  };

  const spans = rec?.spans ?? [];
  const gaps = rec?.gaps ?? [];
  const bookmarks = rec?.bookmarks ?? [];
  const ts = ticks(view, width);
  const tickLabel = (ms: number) => {
    const showDate = span > 86_400_000 || new Date(ms).getHours() === 0;
    return span <= 120_000 ? fmtTime(ms, false) : fmtTime(ms, showDate).replace(/:\d\d$/, '');
  };

  return (
    <div class="timeline-wrap" ref={wrap}>
      <svg
        class="timeline"
        data-camera={props.camera}
        width={width}
        height={H}
        role="slider"
        tabIndex={0}
        aria-label={`${t('timeline')} ${props.camera}`}
        aria-valuemin={view.from}
        aria-valuemax={view.to}
        aria-valuenow={playhead ?? (view.from + view.to) / 2}
        aria-valuetext={`${fmtTime(view.from)} – ${fmtTime(view.to)}`}
        onWheel={onWheel}
        onKeyDown={onKey}
        onPointerDown={(e) => {
          (e.currentTarget as SVGElement).setPointerCapture(e.pointerId);
          drag.current = { x: e.clientX, view, moved: false };
        }}
        onPointerMove={(e) => {
          setHover(msAt(pxOf(e)));
          const d = drag.current;
          if (!d) return;
          const dx = e.clientX - d.x;
          if (Math.abs(dx) > 3) d.moved = true;
          if (d.moved) onView(pan(d.view, -dx / width));
        }}
        onPointerUp={(e) => {
          const d = drag.current;
          drag.current = null;
          if (d && !d.moved) onPick(msAt(pxOf(e)));
        }}
        onPointerLeave={() => setHover(null)}
      >
        <rect class="bg" x={0} y={BAR_Y} width={width} height={BAR_H} />
        {spans.map((s) => {
          const a = Date.parse(s.start);
          const b = Date.parse(s.end);
          if (b < view.from || a > view.to) return null;
          return (
            <rect class="span" data-start={a} data-end={b} x={clampX(a)} y={BAR_Y} width={Math.max(1, clampX(b) - clampX(a))} height={BAR_H}>
              <title>{`${t('recorded')}: ${fmtTime(a)} – ${fmtTime(b)}`}</title>
            </rect>
          );
        })}
        {gaps.map((g) => {
          const a = Date.parse(g.start);
          const b = Date.parse(g.end);
          if (b < view.from || a > view.to) return null;
          return (
            <rect class="gap" data-start={a} data-end={b} x={clampX(a)} y={BAR_Y} width={Math.max(2, clampX(b) - clampX(a))} height={BAR_H}>
              <title>{`${t('gap')}: ${fmtTime(a)} – ${fmtTime(b)}${g.reason ? ` (${g.reason})` : ''}`}</title>
            </rect>
          );
        })}
        {bookmarks.map((bm) => {
          const a = Date.parse(bm.at);
          if (a < view.from || a > view.to) return null;
          const bx = x(a);
          return (
            <path class="bookmark" d={`M${bx - 5},0 L${bx + 5},0 L${bx},8 Z`} data-at={a}>
              <title>{`${t('bookmark')} ${fmtTime(a)}: ${bm.note}${bm.by ? ` (${bm.by})` : ''}`}</title>
            </path>
          );
        })}
        {ts.map((tk) => (
          <g class="tick">
            <line x1={x(tk)} x2={x(tk)} y1={BAR_Y + BAR_H} y2={BAR_Y + BAR_H + 5} />
            {x(tk) < width - 60 && (
              <text x={x(tk) + 2} y={H - 6}>
                {tickLabel(tk)}
              </text>
            )}
          </g>
        ))}
        {playhead !== null && playhead >= view.from && playhead <= view.to && (
          <line class="playhead" x1={x(playhead)} x2={x(playhead)} y1={0} y2={BAR_Y + BAR_H + 4} />
        )}
        {hover !== null && <line class="hover" x1={x(hover)} x2={x(hover)} y1={BAR_Y} y2={BAR_Y + BAR_H} />}
      </svg>
      <div class="timeline-hover muted" aria-hidden="true">
        {hover !== null ? `${fmtTime(hover)} — ${t('play_from')}` : '\u00a0'}
      </div>
    </div>
  );
}
