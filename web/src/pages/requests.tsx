// Footage requests (H1–H5): police draft a request (organ, purpose, legal basis, cameras and
// range, two officers, the unit letter or legal document) and submit it; the agency head
// approves or refuses it in the inbox; the unit's operator sees both officers and the
// documents before releasing it; everyone involved sees the history and prints the
// registration form (登记表, PDF).
import { useEffect, useState } from 'preact/hooks';
import { request } from '../api';
import { getLang } from '../i18n';
import { ErrorBanner, hasRole, useApp, useLang } from '../ui';

const zh = {
  nav: '调取申请',
  new_request: '新建调取申请',
  organ: '调取单位',
  organ_type: '单位类型',
  purpose: '事由',
  basis: '法律依据',
  case: '案件编号',
  kind: '方式',
  camera: '摄像机',
  from: '起',
  to: '止',
  officer: '办案人员',
  name: '姓名',
  work_id: '工作证号',
  document: '介绍信或法律文书',
  doc_kind: '文件类型',
  create: '保存并提交',
  inbox: '待审批',
  to_release: '待提供',
  history: '申请记录',
  approve: '批准',
  reject: '拒绝',
  reason: '拒绝理由',
  unit: '所在单位',
  release: '提供',
  valid_hours: '有效期（小时）',
  form: '登记表（PDF）',
  state: '状态',
  officers: '办案人员',
  documents: '证明文件',
  approver: '审批人',
  released_by: '提供人',
  valid_until: '有效期至',
  bundles: '证据包',
  none: '无',
};
const en: typeof zh = {
  nav: 'Requests',
  new_request: 'New footage request',
  organ: 'Requesting organ',
  organ_type: 'Organ type',
  purpose: 'Purpose',
  basis: 'Legal basis',
  case: 'Case number',
  kind: 'Kind',
  camera: 'Camera',
  from: 'From',
  to: 'To',
  officer: 'Officer',
  name: 'Name',
  work_id: 'Work ID',
  document: 'Unit letter or legal document',
  doc_kind: 'Document kind',
  create: 'Save and submit',
  inbox: 'To approve',
  to_release: 'To release',
  history: 'History',
  approve: 'Approve',
  reject: 'Refuse',
  reason: 'Reason for refusal',
  unit: 'Agency headed',
  release: 'Release',
  valid_hours: 'Valid for (hours)',
  form: 'Registration form (PDF)',
  state: 'State',
  officers: 'Officers',
  documents: 'Documents',
  approver: 'Approver',
  released_by: 'Released by',
  valid_until: 'Valid until',
  bundles: 'Evidence bundles',
  none: 'none',
};
export const rq = (k: keyof typeof zh): string => (getLang() === 'en' ? en : zh)[k];

const STATES: Record<string, string> = {
  drafted: '草拟', submitted: '已提交', approved: '已批准', rejected: '已拒绝', released: '已提供', closed: '已关闭',
};
const ORGANS: [string, string][] = [
  ['police', '公安机关'],
  ['state_security', '国家安全机关'],
  ['investigative', '侦查机关'],
  ['procuratorial', '检察机关'],
  ['judicial', '审判机关'],
  ['county_government', '县级以上人民政府有关部门（应急）'],
];
const KINDS: [string, string][] = [
  ['view', '查看'],
  ['copy', '复制'],
  ['retrieve', '调取'],
  ['live', '实时接入'],
];

export interface FootageRequest {
  id: number;
  state: string;
  organ: string;
  organ_type: string;
  purpose: string;
  legal_basis: string;
  case?: string | null;
  kind: string;
  cameras: { camera: string; from: string; to: string }[];
  officers: { name: string; work_id: string }[];
  created_by: string;
  approved_by?: string | null;
  approver_work_id?: string | null;
  approver_unit?: string | null;
  refused_by?: string | null;
  refusal_reason?: string | null;
  released_by?: string | null;
  valid_until?: string | null;
  bundles: { camera: string; path: string; key_fingerprint: string }[];
  documents: { id: number; kind: string; title: string; sha256: string }[];
  ledger: number[];
}

const req = {
  list: () => request<FootageRequest[]>('GET', '/api/requests'),
  create: (b: unknown) => request<FootageRequest>('POST', '/api/requests', b),
  attach: (id: number, kind: string, title: string, content_base64: string) =>
    request<unknown>('POST', `/api/requests/${id}/documents`, { kind, title, content_base64 }),
  submit: (id: number) => request<FootageRequest>('POST', `/api/requests/${id}/submit`, {}),
  approve: (id: number, work_id: string, unit: string) =>
    request<FootageRequest>('POST', `/api/requests/${id}/approve`, { work_id, unit, unit_type: 'police' }),
  reject: (id: number, reason: string) => request<FootageRequest>('POST', `/api/requests/${id}/reject`, { reason }),
  release: (id: number, valid_hours: number) =>
    request<FootageRequest>('POST', `/api/requests/${id}/release`, { valid_hours }),
};

const local = (ms: number) => {
  const d = new Date(ms - new Date().getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
};

async function fileBase64(f: File): Promise<string> {
  const buf = new Uint8Array(await f.arrayBuffer());
  let s = '';
  for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode(...buf.subarray(i, i + 0x8000));
  return btoa(s);
}

function NewRequest({ onDone }: { onDone: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const now = Date.now();
  return (
    <form
      class="card stack"
      id="new-request"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        const f = new FormData(e.target as HTMLFormElement);
        const s = (k: string) => String(f.get(k) ?? '').trim();
        try {
          const r = await req.create({
            organ: s('organ'),
            organ_type: s('organ_type'),
            purpose: s('purpose'),
            legal_basis: s('basis'),
            case: s('case') || null,
            kind: s('kind'),
            cameras: [{ camera: s('camera'), from: new Date(s('from')).toISOString(), to: new Date(s('to')).toISOString() }],
            officers: [
              { name: s('officer1'), work_id: s('work1') },
              { name: s('officer2'), work_id: s('work2') },
            ],
          });
          const file = f.get('document') as File | null;
          if (file && file.size > 0) await req.attach(r.id, s('doc_kind'), file.name, await fileBase64(file));
          await req.submit(r.id);
          (e.target as HTMLFormElement).reset();
          onDone();
        } catch (err) {
          setError(err);
          onDone();
        }
      }}
    >
      <h2>{rq('new_request')}</h2>
      <label>{rq('organ')}<input name="organ" required /></label>
      <label>
        {rq('organ_type')}
        <select name="organ_type">{ORGANS.map(([v, l]) => <option value={v}>{l}</option>)}</select>
      </label>
      <label>{rq('purpose')}<input name="purpose" required /></label>
      <label>{rq('basis')}<input name="basis" required /></label>
      <label>{rq('case')}<input name="case" /></label>
      <label>
        {rq('kind')}
        <select name="kind">{KINDS.map(([v, l]) => <option value={v}>{l}</option>)}</select>
      </label>
      <label>{rq('camera')}<input name="camera" required /></label>
      <label>{rq('from')}<input name="from" type="datetime-local" step={1} required defaultValue={local(now - 3600_000)} /></label>
      <label>{rq('to')}<input name="to" type="datetime-local" step={1} required defaultValue={local(now)} /></label>
      {[1, 2].map((i) => (
        <fieldset>
          <legend>{rq('officer')} {i}</legend>
          <label>{rq('name')}<input name={`officer${i}`} required /></label>
          <label>{rq('work_id')}<input name={`work${i}`} required /></label>
        </fieldset>
      ))}
      <label>
        {rq('doc_kind')}
        <select name="doc_kind">
          <option value="unit_letter">单位介绍信</option>
          <option value="legal_document">法律文书</option>
        </select>
      </label>
      <label>{rq('document')}<input name="document" type="file" required /></label>
      <button type="submit" class="primary">{rq('create')}</button>
      <ErrorBanner error={error} />
    </form>
  );
}

function Details({ r }: { r: FootageRequest }) {
  return (
    <dl class="request-details">
      <dt>{rq('organ')}</dt><dd>{r.organ} ({ORGANS.find(([v]) => v === r.organ_type)?.[1] ?? r.organ_type})</dd>
      <dt>{rq('purpose')}</dt><dd>{r.purpose}</dd>
      <dt>{rq('basis')}</dt><dd>{r.legal_basis}</dd>
      <dt>{rq('kind')}</dt><dd>{KINDS.find(([v]) => v === r.kind)?.[1] ?? r.kind}</dd>
      <dt>{rq('camera')}</dt>
      <dd>{r.cameras.map((c) => `${c.camera} ${new Date(c.from).toLocaleString()} – ${new Date(c.to).toLocaleString()}`).join('; ')}</dd>
      <dt>{rq('officers')}</dt>
      <dd class="officers">{r.officers.map((o) => <span class="officer">{o.name}（{o.work_id}）</span>)}</dd>
      <dt>{rq('documents')}</dt>
      <dd class="documents">
        {r.documents.length === 0 ? rq('none') : r.documents.map((d) => (
          <a class="document" href={`/api/requests/${r.id}/documents/${d.id}`} target="_blank" title={`SHA-256 ${d.sha256}`}>{d.title}</a>
        ))}
      </dd>
      {r.approved_by && (<><dt>{rq('approver')}</dt><dd>{r.approved_by}（{r.approver_work_id}，{r.approver_unit}）</dd></>)}
      {r.refusal_reason && (<><dt>{rq('reject')}</dt><dd>{r.refused_by}: {r.refusal_reason}</dd></>)}
      {r.released_by && (<><dt>{rq('released_by')}</dt><dd>{r.released_by}</dd></>)}
      {r.valid_until && (<><dt>{rq('valid_until')}</dt><dd>{new Date(r.valid_until).toLocaleString()}</dd></>)}
      {r.bundles.length > 0 && (<><dt>{rq('bundles')}</dt><dd class="bundles">{r.bundles.map((b) => <code class="bundle" data-path={b.path}>{b.path} ({b.key_fingerprint})</code>)}</dd></>)}
    </dl>
  );
}

function Actions({ r, onDone }: { r: FootageRequest; onDone: () => void }) {
  const { session } = useApp();
  const [error, setError] = useState<unknown>(null);
  // Each form's fields are read when it is submitted.
  const act = (f: (v: (k: string) => string) => Promise<unknown>) => async (e: Event) => {
    e.preventDefault();
    setError(null);
    const data = new FormData(e.target as HTMLFormElement);
    try {
      await f((k) => String(data.get(k) ?? '').trim());
    } catch (err) {
      setError(err);
    }
    onDone();
  };
  const approver = hasRole(session, 'police_approver') && r.state === 'submitted';
  const operator = hasRole(session, 'watch_operator') && r.state === 'approved';
  return (
    <div class="actions">
      {approver && (
        <form class="approve" onSubmit={act((v) => req.approve(r.id, v('work_id'), v('unit')))}>
          <label>{rq('work_id')}<input name="work_id" required /></label>
          <label>{rq('unit')}<input name="unit" required defaultValue={r.organ} /></label>
          <button type="submit" class="primary">{rq('approve')}</button>
        </form>
      )}
      {operator && (
        <form class="release" onSubmit={act((v) => req.release(r.id, Number(v('valid_hours'))))}>
          <label>{rq('valid_hours')}<input name="valid_hours" type="number" min="1" max="720" defaultValue="24" /></label>
          <button type="submit" class="primary">{rq('release')}</button>
        </form>
      )}
      {(approver || operator) && (
        <form class="reject" onSubmit={act((v) => req.reject(r.id, v('reason')))}>
          <label>{rq('reason')}<input name="reason" required /></label>
          <button type="submit">{rq('reject')}</button>
        </form>
      )}
      <a class="form-pdf" href={`/api/requests/${r.id}/form.pdf`} target="_blank">{rq('form')}</a>
      <ErrorBanner error={error} />
    </div>
  );
}

export function RequestsPage() {
  useLang();
  const { session } = useApp();
  const [list, setList] = useState<FootageRequest[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = async () => {
    try {
      setList(await req.list());
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    load();
  }, []);
  return (
    <section id="main" class="requests">
      <h1>{rq('nav')}</h1>
      <ErrorBanner error={error} />
      {hasRole(session, 'police_officer') && <NewRequest onDone={load} />}
      <h2>{rq('history')}</h2>
      {list && list.length === 0 && <p class="muted">{rq('none')}</p>}
      {list?.map((r) => (
        <article class="card request" data-request={r.id} data-state={r.state}>
          <h3>
            #{r.id} {r.organ} <span class="state">{STATES[r.state] ?? r.state}</span>
          </h3>
          <Details r={r} />
          <Actions r={r} onDone={load} />
        </article>
      ))}
    </section>
  );
}
