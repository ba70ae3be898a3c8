// D6: "Report suspicious" on a camera's page: the moment (the playhead, or now) and what was
// seen; the server bookmarks it, holds the footage around it and notifies the police side.
import { useState } from 'preact/hooks';
import { reg } from '../registry/api';
import { tr } from '../registry/i18n';
import { ErrorBanner, useLang } from '../ui';

export function ReportSuspicious({ camera, at, onReported }: { camera: string; at: number | null; onReported?: () => void }) {
  useLang();
  const [open, setOpen] = useState(false);
  const [note, setNote] = useState('');
  const [when, setWhen] = useState(0);
  const [done, setDone] = useState('');
  const [error, setError] = useState<unknown>(null);
  return (
    <span class="suspicious">
      <button
        type="button"
        id="report-suspicious"
        onClick={() => {
          setWhen(at ?? Date.now());
          setDone('');
          setOpen(!open);
        }}
      >
        {tr('report_suspicious')}
      </button>
      {open && (
        <form
          class="card"
          id="suspicious-form"
          onSubmit={async (e) => {
            e.preventDefault();
            setError(null);
            try {
              const r = await reg.suspicious(camera, new Date(when).toISOString(), note);
              setDone(tr('suspicious_sent', { bookmark: r.bookmark_id, hold: r.hold_id }));
              setOpen(false);
              setNote('');
              onReported?.();
            } catch (err) {
              setError(err);
            }
          }}
        >
          <p>
            {tr('suspicious_at')}: {new Date(when).toLocaleString()}
          </p>
          <label>
            {tr('suspicious_note')}
            <input name="note" required value={note} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit" class="primary">
            {tr('send')}
          </button>
          <button type="button" onClick={() => setOpen(false)}>
            {tr('cancel')}
          </button>
          <ErrorBanner error={error} />
        </form>
      )}
      {done && (
        <span class="banner ok" role="status" id="suspicious-done">
          {done}
        </span>
      )}
    </span>
  );
}
