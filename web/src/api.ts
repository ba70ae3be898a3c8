// The HTTP API of `custos serve` (docs/api.md), typed, with the session rules applied in one
// place: the CSRF header on every request that changes something, 401 → login, 403 → a
// "no permission" error that names what was refused.

export interface Role {
  role: string;
  scope: string;
}

export interface User {
  name: string;
  roles: Role[];
  expires?: string | null;
  on_duty?: boolean;
  /** The password must be changed (POST /api/password) before anything else is allowed. */
  must_change_password?: boolean;
}

export interface Session {
  user: User;
  csrf: string;
}

export interface Stream {
  kind: 'main' | 'sub';
  state: string;
  fps: number;
  bitrate_bps: number;
  last_frame?: string | null;
  codec?: string | null;
  width?: number | null;
  height?: number | null;
  /** Whether this server has a live view of the stream. */
  live?: boolean;
  /** Percentage (0–100) of the last 24 h recorded, when known. */
  completeness_24h?: number | null;
  gaps_24h?: number;
}

export interface Camera {
  name: string;
  scope: string;
  retention_days: number;
  streams: Stream[];
  /** Percentage (0–100) of the last 24 h recorded on the main stream, when known. */
  completeness_24h: number | null;
}

export interface Span {
  start: string;
  end: string;
}

export interface Gap extends Span {
  reason?: string;
}

export interface Bookmark {
  at: string;
  note: string;
  by?: string;
}

export interface Recordings {
  spans: Span[];
  gaps: Gap[];
  bookmarks: Bookmark[];
}

export interface Health {
  cameras: Camera[];
  disk: { path: string; total_bytes: number; free_bytes: number };
  capacity: { camera: string; days: number; minimum_days: number; status?: string }[];
  ledger: { entries: number; last_checkpoint?: string | null };
  alarms?: string[];
}

export interface AuditEntry {
  seq: number;
  time: string;
  actor: string;
  action: string;
  object: string;
  purpose?: string | null;
  details?: unknown;
}

export interface AuditPage {
  entries: AuditEntry[];
  total: number;
  /** Cursor for the next (older) page; absent on the last page. */
  next_before?: number | null;
}

export interface Account {
  name: string;
  roles: Role[];
  expires?: string | null;
  disabled?: boolean;
  totp?: boolean;
}

export interface SessionInfo {
  id: string;
  user?: string;
  created?: string;
  last_seen?: string;
  peer?: string | null;
  current?: boolean;
}

/** An error answer of the server, or a failure to reach it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly kind: string,
    message: string,
    /** What was requested, e.g. "DELETE /api/users/bob". */
    readonly what: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
  }
  get unauthenticated(): boolean {
    return this.status === 401;
  }
  get forbidden(): boolean {
    return this.status === 403;
  }
}

let csrf = '';
let onUnauthenticated: (() => void) | null = null;

export function setCsrf(token: string): void {
  csrf = token;
}

/** Called when any request answers 401 (the session ended): the app shows the login page. */
export function setUnauthenticatedHandler(f: () => void): void {
  onUnauthenticated = f;
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const what = `${method} ${path.split('?')[0]}`;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch (e) {
    throw new ApiError(0, 'unavailable', `server not reachable (${String(e)})`, what);
  }
  const text = await res.text();
  let json: unknown = undefined;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  if (!res.ok) {
    const obj = (json && typeof json === 'object' ? json : {}) as Record<string, unknown>;
    const message = typeof obj.error === 'string' ? obj.error : text || res.statusText;
    const kind = typeof obj.kind === 'string' ? obj.kind : String(res.status);
    const err = new ApiError(res.status, kind, message, what, obj);
    if (res.status === 401 && path !== '/api/login' && onUnauthenticated) onUnauthenticated();
    throw err;
  }
  return (json === undefined ? (text as unknown) : json) as T;
}

const q = (params: Record<string, string | number | undefined | null>): string => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
};

const cam = (name: string) => `/api/cameras/${encodeURIComponent(name)}`;

/** RFC 3339 UTC with milliseconds, as the API expects. */
export const iso = (ms: number): string => new Date(ms).toISOString();

export const api = {
  login: (username: string, password: string, totp?: string) =>
    request<Session>('POST', '/api/login', totp ? { username, password, totp } : { username, password }),
  logout: () => request<unknown>('POST', '/api/logout', {}),
  session: () => request<Session>('GET', '/api/session'),
  changePassword: (old_password: string, new_password: string) =>
    request<unknown>('POST', '/api/password', { old_password, new_password }),
  duty: (on: boolean) => request<unknown>('POST', '/api/duty', { on }),
  cameras: () => request<Camera[]>('GET', '/api/cameras'),
  recordings: (name: string, from: number, to: number) =>
    request<Recordings>('GET', `${cam(name)}/recordings${q({ from: iso(from), to: iso(to) })}`),
  health: () => request<Health>('GET', '/api/health'),
  exportClip: (camera: string, from: number, to: number, purpose: string) =>
    request<{ id: string; url: string }>('POST', '/api/exports', { camera, from: iso(from), to: iso(to), purpose }),
  users: () => request<Account[] | { users: Account[] }>('GET', '/api/users'),
  addUser: (u: { name: string; password: string; role: string; scopes: string[]; expires?: string }) =>
    request<unknown>('POST', '/api/users', u),
  disableUser: (name: string) => request<unknown>('DELETE', `/api/users/${encodeURIComponent(name)}`),
  sessions: () => request<SessionInfo[] | { sessions: SessionInfo[] }>('GET', '/api/sessions'),
  endSession: (id: string) => request<unknown>('DELETE', `/api/sessions/${encodeURIComponent(id)}`),
  audit: (f: { from?: string; to?: string; actor?: string; action?: string; object?: string; limit?: number; before?: number }) =>
    request<AuditPage>('GET', `/api/audit${q(f)}`),
};

export const urls = {
  live: (name: string, stream: 'main' | 'sub'): string => {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${proto}//${location.host}${cam(name)}/live${q({ stream })}`;
  },
  view: (name: string, from: number, to: number, stream = 'main') =>
    `${cam(name)}/view.mp4${q({ from: iso(from), to: iso(to), stream })}`,
  thumbnail: (name: string, at: number, width: number) => `${cam(name)}/thumbnail.jpg${q({ at: iso(at), width })}`,
};

/** Accepts both a bare array and `{key: [...]}` answers. */
export function listOf<T>(v: T[] | Record<string, T[]>, key: string): T[] {
  return Array.isArray(v) ? v : (v[key] ?? []);
}
