// The registry and compliance routes of the API (docs/api.md, "Registry").
import { request } from '../api';
import { getLang } from '../i18n';

export interface SystemSummary {
  id: string;
  name: string;
  division: string;
  state: string;
  profile: string;
  in_use: boolean;
  must_connect: boolean;
  devices: number;
  full: boolean;
  may_inspect: boolean;
}

export interface Device {
  code: string;
  system_id: string;
  kind: string;
  name: string;
  vendor: string;
  model: string;
  lon?: number | null;
  lat?: number | null;
  place_id?: string | null;
  signage: boolean;
  online: boolean;
  camera_name?: string | null;
}

export interface SystemDetail {
  system: Record<string, unknown> & { id: string; name: string; state: string };
  devices: Device[];
  full: boolean;
  deadlines: { kind: string; due: string; articles: unknown[] }[];
  documents: { id: number; kind: string; title: string; dated: string }[];
  inspections: { id: number; kind: string; inspector: string; started_at: string; finished_at?: string | null }[];
  orders: Order[];
}

export interface Order {
  id: number;
  system_id: string;
  deadline: string;
  issued_by: string;
  items: { failed_items?: { item: string; article: string; note: string }[]; findings?: string[] };
}

export interface Finding {
  id: string;
  rule: string;
  subject: string;
  system_id?: string | null;
  articles: string;
  severity: string;
  status: string;
  message: string;
  deadline: string;
  order_id?: number | null;
}

export interface Checklist {
  kind: string;
  items: { key: string; question: string; article: string }[];
}

const q = (params: Record<string, string | undefined>): string => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) u.set(k, v);
  const s = u.toString();
  return s ? `?${s}` : '';
};
const enc = encodeURIComponent;

export const reg = {
  systems: () => request<SystemSummary[]>('GET', '/api/systems'),
  system: (id: string) => request<SystemDetail>('GET', `/api/systems/${enc(id)}`),
  device: (code: string, purpose: string) => request<Device>('GET', `/api/devices/${enc(code)}${q({ purpose })}`),
  findings: (f: { system?: string; status?: string; article?: string }) => request<Finding[]>('GET', `/api/findings${q(f)}`),
  scan: () => request<{ devices: number; findings: number }>('POST', '/api/findings/scan', {}),
  advance: (id: string, to: string, note: string) => request<Finding>('POST', `/api/findings/${enc(id)}/advance`, { to, note }),
  checklists: () => request<Checklist[]>('GET', '/api/inspections/checklists'),
  start: (system: string, kind: string) => request<{ id: number; checklist: Checklist }>('POST', '/api/inspections', { system, kind }),
  answer: (id: number, item: string, answer: string, note: string) =>
    request<unknown>('POST', `/api/inspections/${id}/answers`, { item, answer, note }),
  finish: (id: number, days?: number) => request<{ order: Order | null }>('POST', `/api/inspections/${id}/finish`, days ? { days } : {}),
  // The report is written in the console's language (zh or en).
  reportUrl: (system: string, ext: 'pdf' | 'html') =>
    `/api/reports/system/${enc(system)}.${ext}?lang=${getLang() === 'en' ? 'en' : 'zh'}`,
  suspicious: (camera: string, at: string, note: string) =>
    request<{ bookmark_id: number; hold_id: number }>('POST', `/api/cameras/${enc(camera)}/reports`, { at, note }),
  catalogue: () =>
    request<{ name: string; division: string; using_unit: string; state: string; cameras: number }[]>('GET', '/api/public/catalogue'),
  complain: (against: string, body: string, contact: string) =>
    request<{ id: number; sha256: string }>('POST', '/api/public/complaints', { against, body, contact }),
};
