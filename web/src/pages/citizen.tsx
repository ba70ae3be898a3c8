// Citizen view-only sessions (H4).
//  - CitizenViewPage: what the applicant opens (no account): `#/view/<code>` opens the session
//    once (the code leaves the address bar at once), then each range plays from a WebSocket of
//    watermarked fMP4 into Media Source Extensions — there is no file URL to save.
//  - CitizenSessionsPage: a police officer opens a session for an applicant and sees, ends
//    the sessions they opened.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, iso, request } from '../api';
import { tc } from '../citizen/i18n';
import { ErrorBanner } from '../ui';

export interface CitizenRange {
  camera: string;
  from: string;
  to: string;
}

export interface CitizenSession {
  id: string;
  applicant_name: string;
  applicant_id: string;
  reason: string;
  state: 'created' | 'open' | 'ended';
  created_by: string;
  created: string;
  expires: string;
  opened?: string | null;
  ended?: string | null;
  end_reason?: string | null;
  ranges: CitizenRange[];
}

const when = (s: string) => new Date(s).toLocaleString();

/** Plays range `index` of the open session into `video`; returns what stops it. */
function watch(video: HTMLVideoElement, index: number, onState: (s: string) => void): () => void {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(`${proto}//${location.host}/api/citizen/watch?range=${index}`);
  ws.binaryType = 'arraybuffer';
  const ms = new MediaSource();
  video.src = URL.createObjectURL(ms);
  let sb: SourceBuffer | null = null;
  const queue: ArrayBuffer[] = [];
  let ended = false;
  const pump = () => {
    if (!sb || sb.updating) return;
    const next = queue.shift();
    if (next) sb.appendBuffer(next);
    else if (ended && ms.readyState === 'open') ms.endOfStream();
  };
  const ready = new Promise<void>((r) => ms.addEventListener('sourceopen', () => r(), { once: true }));
  ws.onmessage = async (m) => {
    if (typeof m.data === 'string') {
      const hello = JSON.parse(m.data);
      if (hello.end) {
        ended = true;
        pump();
        onState('ended');
        return;
      }
      await ready;
      sb = ms.addSourceBuffer(hello.mime);
      sb.addEventListener('updateend', pump);
      onState('playing');
      pump();
      return;
    }
    queue.push(m.data as ArrayBuffer);
    pump();
  };
  ws.onclose = (e) => {
    if (e.code === 4403) onState(`closed: ${e.reason}`);
  };
  video.play().catch(() => undefined);
  return () => ws.close();
}

export function CitizenViewPage({ code }: { code?: string }) {
  const [session, setSession] = useState<CitizenSession | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [state, setState] = useState<string>('');
  const [busy, setBusy] = useState(true);
  const video = useRef<HTMLVideoElement>(null);
  const stop = useRef<(() => void) | null>(null);

  useEffect(() => {
    (async () => {
      try {
        if (code) {
          // The code opens the session once; it is not kept in the address bar or history.
          history.replaceState(null, '', '#/view');
          setSession(await request<CitizenSession>('POST', '/api/citizen/open', { code }));
        } else {
          setSession(await request<CitizenSession>('GET', '/api/citizen/session'));
        }
      } catch (e) {
        setError(e);
      } finally {
        setBusy(false);
      }
    })();
    return () => stop.current?.();
  }, [code]);

  const play = (i: number) => {
    stop.current?.();
    if (video.current) stop.current = watch(video.current, i, setState);
  };

  const endSession = async () => {
    stop.current?.();
    try {
      await request('POST', '/api/citizen/end');
    } catch (e) {
      setError(e);
    }
    setSession((s) => (s ? { ...s, state: 'ended' } : s));
  };

  return (
    <main id="main" class="citizen">
      <h1>{tc('title')}</h1>
      <p class="notice" id="citizen-notice">
        {tc('notice')}
      </p>
      {busy && <p class="muted">{tc('opening')}</p>}
      {error ? (
        <div id="citizen-refused">
          <h2>{tc('refused')}</h2>
          <ErrorBanner error={error} />
        </div>
      ) : null}
      {!busy && !error && !session && <p>{tc('no_session')}</p>}
      {session && session.state === 'ended' && <p id="citizen-ended">{tc('session_ended')}</p>}
      {session && session.state === 'open' && (
        <section id="citizen-session" data-session={session.id}>
          <p>
            {tc('applicant')}: {session.applicant_name} · {tc('valid_until')} {when(session.expires)}
          </p>
          <h2>{tc('ranges')}</h2>
          <table>
            <thead>
              <tr>
                <th>{tc('camera')}</th>
                <th>{tc('from')}</th>
                <th>{tc('to')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {session.ranges.map((r, i) => (
                <tr>
                  <td>{r.camera}</td>
                  <td>{when(r.from)}</td>
                  <td>{when(r.to)}</td>
                  <td>
                    <button type="button" class="citizen-play" onClick={() => play(i)}>
                      {tc('play')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <video
            id="citizen-video"
            ref={video}
            muted
            playsInline
            disablePictureInPicture
            controlsList="nodownload noplaybackrate"
            onContextMenu={(e) => e.preventDefault()}
            style={{ width: '100%', maxWidth: '960px', background: '#000' }}
          />
          <p id="citizen-state" data-state={state}>
            {state === 'playing' ? tc('playing') : state === 'ended' ? tc('ended_play') : state}
          </p>
          <button type="button" id="citizen-end" onClick={endSession}>
            {tc('end_session')}
          </button>
        </section>
      )}
    </main>
  );
}

const REASONS = ['missing_elderly', 'missing_child', 'missing_intellectual_disability'];

/** `datetime-local` value of a time in ms. */
const localInput = (ms: number) => {
  const d = new Date(ms - new Date().getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
};

export function CitizenSessionsPage() {
  const [list, setList] = useState<CitizenSession[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [link, setLink] = useState<string>('');
  const now = Date.now();
  const [form, setForm] = useState({
    applicant_name: '',
    applicant_id: '',
    reason: REASONS[0],
    note: '',
    expires: localInput(now + 3600_000),
    ranges: [{ camera: '', from: localInput(now - 3600_000), to: localInput(now - 60_000) }],
  });
  const load = async () => {
    try {
      setList(await request<CitizenSession[]>('GET', '/api/citizen-sessions'));
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    load();
  }, []);
  const set = (k: string, v: string) => setForm({ ...form, [k]: v });
  const create = async (e: Event) => {
    e.preventDefault();
    try {
      const r = await request<{ link: string }>('POST', '/api/citizen-sessions', {
        applicant_name: form.applicant_name,
        applicant_id: form.applicant_id,
        reason: form.reason,
        note: form.note,
        expires: iso(new Date(form.expires).getTime()),
        ranges: form.ranges.map((r) => ({
          camera: r.camera,
          from: iso(new Date(r.from).getTime()),
          to: iso(new Date(r.to).getTime()),
        })),
      });
      setLink(`${location.origin}${r.link}`);
      setError(null);
      await load();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section class="citizen-admin">
      <h1>{tc('create_title')}</h1>
      <ErrorBanner error={error} onClose={() => setError(null)} />
      <form onSubmit={create} id="citizen-create">
        <label>
          {tc('applicant_name')}
          <input name="applicant_name" required value={form.applicant_name} onInput={(e) => set('applicant_name', (e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {tc('applicant_id')}
          <input name="applicant_id" required value={form.applicant_id} onInput={(e) => set('applicant_id', (e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {tc('reason')}
          <select name="reason" value={form.reason} onChange={(e) => set('reason', (e.target as HTMLSelectElement).value)}>
            {REASONS.map((r) => (
              <option value={r}>{tc(`reason.${r}`)}</option>
            ))}
          </select>
        </label>
        <label>
          {tc('note')}
          <input name="note" value={form.note} onInput={(e) => set('note', (e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {tc('expires')}
          <input type="datetime-local" name="expires" value={form.expires} onInput={(e) => set('expires', (e.target as HTMLInputElement).value)} />
        </label>
        {form.ranges.map((r, i) => (
          <fieldset>
            <label>
              {tc('camera')}
              <input
                name={`camera-${i}`}
                required
                value={r.camera}
                onInput={(e) => {
                  const ranges = [...form.ranges];
                  ranges[i] = { ...r, camera: (e.target as HTMLInputElement).value };
                  setForm({ ...form, ranges });
                }}
              />
            </label>
            {(['from', 'to'] as const).map((k) => (
              <label>
                {tc(k)}
                <input
                  type="datetime-local"
                  step={1}
                  name={`${k}-${i}`}
                  value={r[k]}
                  onInput={(e) => {
                    const ranges = [...form.ranges];
                    ranges[i] = { ...r, [k]: (e.target as HTMLInputElement).value };
                    setForm({ ...form, ranges });
                  }}
                />
              </label>
            ))}
          </fieldset>
        ))}
        <button type="button" onClick={() => setForm({ ...form, ranges: [...form.ranges, { ...form.ranges[form.ranges.length - 1] }] })}>
          {tc('add_range')}
        </button>
        <button type="submit">{tc('create')}</button>
      </form>
      {link && (
        <p id="citizen-link">
          {tc('created_link')} <code>{link}</code>
        </p>
      )}
      <h2>{tc('sessions')}</h2>
      <table>
        <thead>
          <tr>
            <th>ID</th>
            <th>{tc('applicant')}</th>
            <th>{tc('reason')}</th>
            <th>{tc('state')}</th>
            <th>{tc('valid_until')}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.map((s) => (
            <tr>
              <td>{s.id}</td>
              <td>
                {s.applicant_name} ({s.applicant_id})
              </td>
              <td>{tc(`reason.${s.reason}`)}</td>
              <td>{tc(`state.${s.state}`)}</td>
              <td>{when(s.expires)}</td>
              <td>
                {s.state !== 'ended' && (
                  <button
                    type="button"
                    onClick={async () => {
                      try {
                        await request('POST', `/api/citizen-sessions/${encodeURIComponent(s.id)}/end`);
                        await load();
                      } catch (e) {
                        setError(e instanceof ApiError ? e : String(e));
                      }
                    }}
                  >
                    {tc('end_by_officer')}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
