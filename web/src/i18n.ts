// UI text in Simplified Chinese (default) and English. The choice is remembered in
// localStorage and applied to <html lang>.

const zh = {
  app_name: 'custos 视频监控',
  nav_wall: '实时监控',
  nav_health: '运行状态',
  nav_users: '用户与角色',
  nav_audit: '审计日志',
  language: '语言',
  logout: '退出',
  change_password: '修改密码',
  must_change_password: '首次登录或密码被重置后，须先修改密码才能使用系统。',
  old_password: '当前密码',
  new_password: '新密码',
  repeat_password: '再次输入新密码',
  password_rules: '至少 12 个字符，不得包含用户名；建议使用几个无关的词语。',
  passwords_differ: '两次输入的新密码不一致',
  password_changed: '密码已修改，其他会话已结束。',
  login_title: '登录',
  username: '用户名',
  password: '密码',
  totp: '动态验证码',
  totp_hint: '请输入身份验证器中的 6 位动态验证码',
  login_button: '登录',
  logging_in: '正在登录…',
  login_failed: '登录失败',
  on_duty: '值班中',
  off_duty: '未值班',
  start_shift: '开始值班',
  end_shift: '结束值班',
  duty_needed: '值班人员须先开始值班才能查看实时视频（D5）。',
  layout: '画面布局',
  page: '页',
  prev_page: '上一页',
  next_page: '下一页',
  no_cameras: '没有您有权查看的摄像机。',
  open_camera: '回放与时间轴',
  fullscreen: '全屏（主码流）',
  fullscreen_short: '全屏',
  exit_fullscreen: '退出全屏',
  state_connecting: '正在连接…',
  state_playing: '播放中',
  state_waiting: '等待画面…',
  state_reconnecting: '连接中断，{s} 秒后重连',
  state_denied: '无权查看',
  state_unsupported: '浏览器不支持该视频格式',
  stream_main: '主码流',
  stream_sub: '子码流',
  timeline: '时间轴',
  recorded: '已录像',
  gap: '缺失',
  bookmark: '书签',
  zoom_in: '放大',
  zoom_out: '缩小',
  now: '现在',
  fit_recordings: '显示全部录像',
  earlier: '向前',
  later: '向后',
  window: '显示范围',
  play_from: '从此处回放',
  speed: '播放速度',
  frame_back: '◀ 上一帧',
  frame_forward: '下一帧 ▶',
  play: '播放',
  pause: '暂停',
  back_to_live: '返回实时',
  playback: '录像回放',
  live: '实时',
  no_recording_here: '该时刻没有录像',
  export: '导出录像',
  export_from: '开始时间',
  export_to: '结束时间',
  export_purpose: '导出用途（必填，记入审计）',
  export_request: '申请导出',
  export_ready: '导出文件已生成：',
  download: '下载',
  thumbnails: '缩略图',
  health_title: '运行状态',
  camera: '摄像机',
  stream: '码流',
  state: '状态',
  fps: '帧率',
  bitrate: '码率',
  completeness: '24 小时完整率',
  last_frame: '最后一帧',
  disk: '存储',
  disk_free: '可用 {free} / 共 {total}',
  capacity: '可存储天数',
  capacity_days: '{days} 天（最低 {min} 天）',
  below_minimum: '低于法定最低保存期限',
  ok: '正常',
  ledger: '审计账本',
  ledger_entries: '{n} 条记录',
  last_checkpoint: '最近检查点',
  online: '在线',
  offline: '离线',
  refreshed: '每 5 秒刷新',
  users_title: '用户与角色',
  role: '角色',
  scope: '范围',
  expires: '到期',
  status: '状态',
  active: '有效',
  disabled: '已停用',
  disable: '停用',
  add_user: '添加用户',
  add: '添加',
  sessions: '会话',
  session_end: '结束会话',
  created: '创建时间',
  last_seen: '最近活动',
  alarms: '告警',
  address: '地址',
  confirm_disable: '确定停用用户 {name}？',
  audit_title: '审计日志',
  actor: '操作人',
  action: '操作',
  object: '对象',
  details: '详情',
  time: '时间',
  from: '从',
  to: '到',
  filter: '筛选',
  clear: '清除',
  newer: '较新',
  older: '较早',
  total: '共 {n} 条',
  no_entries: '没有符合条件的记录。',
  no_permission: '无权限：服务器拒绝了 {what}。',
  server_said: '服务器说明：',
  error: '错误',
  loading: '加载中…',
  retry: '重试',
  close: '关闭',
  'role.administrator': '系统管理员',
  'role.watch_operator': '值班操作员',
  'role.maintainer': '运维人员',
  'role.police_officer': '民警',
  'role.police_approver': '审批民警',
  'role.inspector': '检查人员',
  'role.auditor': '审计员',
  'role.citizen_viewer': '公众查看',
  shortcuts: '快捷键：1/2/3/4 切换 1/4/9/16 画面，Enter 全屏，Esc 退出，←/→ 翻页',
  timeline_shortcuts: '快捷键：+/− 缩放，←/→ 平移，空格 播放/暂停，, / . 逐帧',
};

export type Key = keyof typeof zh;

const en: Record<Key, string> = {
  app_name: 'custos video surveillance',
  nav_wall: 'Live',
  nav_health: 'Health',
  nav_users: 'Users & roles',
  nav_audit: 'Audit log',
  language: 'Language',
  logout: 'Log out',
  change_password: 'Change password',
  must_change_password: 'After a first login or a password reset, change the password before using the system.',
  old_password: 'Current password',
  new_password: 'New password',
  repeat_password: 'New password again',
  password_rules: 'At least 12 characters, not containing the user name; a few unrelated words work well.',
  passwords_differ: 'The new passwords differ',
  password_changed: 'Password changed; your other sessions have ended.',
  login_title: 'Log in',
  username: 'User name',
  password: 'Password',
  totp: 'One-time code',
  totp_hint: 'Enter the 6-digit code from your authenticator app',
  login_button: 'Log in',
  logging_in: 'Logging in…',
  login_failed: 'Login failed',
  on_duty: 'On duty',
  off_duty: 'Off duty',
  start_shift: 'Start shift',
  end_shift: 'End shift',
  duty_needed: 'A watch operator must start a shift before live video is shown (D5).',
  layout: 'Layout',
  page: 'Page',
  prev_page: 'Previous page',
  next_page: 'Next page',
  no_cameras: 'There are no cameras you may view.',
  open_camera: 'Timeline and playback',
  fullscreen: 'Full screen (main stream)',
  fullscreen_short: 'Full screen',
  exit_fullscreen: 'Exit full screen',
  state_connecting: 'Connecting…',
  state_playing: 'Playing',
  state_waiting: 'Waiting for video…',
  state_reconnecting: 'Connection lost, retrying in {s} s',
  state_denied: 'Not permitted',
  state_unsupported: 'This browser cannot play the stream format',
  stream_main: 'main stream',
  stream_sub: 'sub stream',
  timeline: 'Timeline',
  recorded: 'Recorded',
  gap: 'Gap',
  bookmark: 'Bookmark',
  zoom_in: 'Zoom in',
  zoom_out: 'Zoom out',
  now: 'Now',
  fit_recordings: 'Fit recordings',
  earlier: 'Earlier',
  later: 'Later',
  window: 'Showing',
  play_from: 'Play from here',
  speed: 'Speed',
  frame_back: '◀ Frame',
  frame_forward: 'Frame ▶',
  play: 'Play',
  pause: 'Pause',
  back_to_live: 'Back to live',
  playback: 'Playback',
  live: 'Live',
  no_recording_here: 'No recording at that time',
  export: 'Export',
  export_from: 'From',
  export_to: 'To',
  export_purpose: 'Purpose (required, recorded in the audit log)',
  export_request: 'Request export',
  export_ready: 'Export ready:',
  download: 'Download',
  thumbnails: 'Thumbnails',
  health_title: 'Health',
  camera: 'Camera',
  stream: 'Stream',
  state: 'State',
  fps: 'fps',
  bitrate: 'Bitrate',
  completeness: 'Completeness (24 h)',
  last_frame: 'Last frame',
  disk: 'Storage',
  disk_free: '{free} free of {total}',
  capacity: 'Capacity',
  capacity_days: '{days} days (minimum {min})',
  below_minimum: 'below the legal minimum retention',
  ok: 'OK',
  ledger: 'Ledger',
  ledger_entries: '{n} entries',
  last_checkpoint: 'Last checkpoint',
  online: 'online',
  offline: 'offline',
  refreshed: 'refreshed every 5 s',
  users_title: 'Users and roles',
  role: 'Role',
  scope: 'Scope',
  expires: 'Expires',
  status: 'Status',
  active: 'active',
  disabled: 'disabled',
  disable: 'Disable',
  add_user: 'Add user',
  add: 'Add',
  sessions: 'Sessions',
  session_end: 'End session',
  created: 'Created',
  last_seen: 'Last seen',
  alarms: 'Alarms',
  address: 'Address',
  confirm_disable: 'Disable user {name}?',
  audit_title: 'Audit log',
  actor: 'Actor',
  action: 'Action',
  object: 'Object',
  details: 'Details',
  time: 'Time',
  from: 'From',
  to: 'To',
  filter: 'Filter',
  clear: 'Clear',
  newer: 'Newer',
  older: 'Older',
  total: '{n} in total',
  no_entries: 'No matching entries.',
  no_permission: 'No permission: the server refused {what}.',
  server_said: 'Server said:',
  error: 'Error',
  loading: 'Loading…',
  retry: 'Retry',
  close: 'Close',
  'role.administrator': 'Administrator',
  'role.watch_operator': 'Watch operator',
  'role.maintainer': 'Maintainer',
  'role.police_officer': 'Police officer',
  'role.police_approver': 'Police approver',
  'role.inspector': 'Inspector',
  'role.auditor': 'Auditor',
  'role.citizen_viewer': 'Citizen viewer',
  shortcuts: 'Keys: 1/2/3/4 layout 1/4/9/16, Enter full screen, Esc exit, ←/→ page',
  timeline_shortcuts: 'Keys: +/− zoom, ←/→ pan, Space play/pause, , / . frame step',
};

export type Lang = 'zh-CN' | 'en';
export const LANGS: { id: Lang; label: string }[] = [
  { id: 'zh-CN', label: '中文' },
  { id: 'en', label: 'English' },
];

const STORAGE_KEY = 'custos.lang';
const dicts: Record<Lang, Record<Key, string>> = { 'zh-CN': zh, en };

function initial(): Lang {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    if (v === 'en' || v === 'zh-CN') return v;
  } catch {
    /* storage unavailable: default */
  }
  return 'zh-CN';
}

let lang: Lang = initial();
const listeners = new Set<() => void>();

export function getLang(): Lang {
  return lang;
}

export function setLang(l: Lang): void {
  lang = l;
  try {
    localStorage.setItem(STORAGE_KEY, l);
  } catch {
    /* not remembered, still applied */
  }
  document.documentElement.lang = l;
  listeners.forEach((f) => f());
}

export function onLangChange(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

/** The text for `key` in the current language, with `{name}` placeholders filled in. */
export function t(key: Key, vars?: Record<string, string | number>): string {
  let s = dicts[lang][key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

export function roleName(role: string): string {
  const k = `role.${role}` as Key;
  return k in zh ? t(k) : role;
}

export function fmtTime(ms: number | string, withDate = true): string {
  const d = typeof ms === 'string' ? new Date(ms) : new Date(ms);
  if (isNaN(d.getTime())) return String(ms);
  const loc = lang === 'en' ? 'en-GB' : 'zh-CN';
  return d.toLocaleString(loc, {
    year: withDate ? 'numeric' : undefined,
    month: withDate ? '2-digit' : undefined,
    day: withDate ? '2-digit' : undefined,
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  });
}

export function fmtBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export function fmtBitrate(bps: number): string {
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(2)} Mbit/s`;
  return `${Math.round(bps / 1e3)} kbit/s`;
}

document.documentElement.lang = lang;
