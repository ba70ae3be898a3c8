// Live player: a WebSocket carrying fMP4 (text message with the MIME type, then the init
// segment, then one moof+mdat fragment per frame) fed into Media Source Extensions.
//
// Latency rules: playback starts at the first key frame; when more than MAX_AHEAD_S seconds
// are buffered ahead of the play head the play head jumps to the live edge; when appends fall
// behind (queue too long) the queue is dropped and appending resumes at the next key frame,
// so the viewer always sees the newest picture instead of a growing backlog.

export type PlayerState =
  | { kind: 'connecting' }
  | { kind: 'waiting' }
  | { kind: 'playing'; firstFrameMs: number }
  | { kind: 'reconnecting'; inSeconds: number; reason: string }
  | { kind: 'denied'; reason: string }
  | { kind: 'unsupported'; mime: string };

export interface PlayerOptions {
  onState?: (s: PlayerState) => void;
  onInfo?: (info: { mime: string; width?: number; height?: number }) => void;
}

const MAX_AHEAD_S = 1.0;
const LIVE_TARGET_S = 0.15;
/** During the first STARTUP_MS of a connection the play head is held within STARTUP_AHEAD_S. */
const STARTUP_MS = 2500;
const STARTUP_AHEAD_S = 0.35;
/** Lags between CATCH_UP_ABOVE_S and MAX_AHEAD_S are closed by playing at CATCH_UP_RATE. */
const CATCH_UP_ABOVE_S = 0.4;
const CATCH_UP_RATE = 1.1;
const MAX_QUEUE = 45;
const KEEP_BEHIND_S = 10;
const TRIM_AFTER_S = 30;
const STALL_MS = 10_000;

/** Reads big-endian u32 at `o`. */
const u32 = (b: Uint8Array, o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
const fourcc = (b: Uint8Array, o: number) => String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3]);

/** Iterates the boxes in b[start, end): yields [type, payloadStart, boxEnd]. */
function* boxes(b: Uint8Array, start: number, end: number): Generator<[string, number, number]> {
  let o = start;
  while (o + 8 <= end) {
    let size = u32(b, o);
    let header = 8;
    if (size === 1 && o + 16 <= end) {
      size = u32(b, o + 8) * 2 ** 32 + u32(b, o + 12);
      header = 16;
    } else if (size === 0) {
      size = end - o;
    }
    if (size < header || o + size > end) return;
    yield [fourcc(b, o + 4), o + header, o + size];
    o += size;
  }
}

/**
 * Whether a media fragment starts with a sync sample, from the first sample's flags in
 * `trun` (or the `tfhd` default). `null` when the fragment says nothing either way.
 */
export function fragmentStartsWithKey(b: Uint8Array): boolean | null {
  for (const [t, p, e] of boxes(b, 0, b.length)) {
    if (t !== 'moof') continue;
    for (const [tt, tp, te] of boxes(b, p, e)) {
      if (tt !== 'traf') continue;
      let defaultFlags: number | null = null;
      for (const [x, xp] of boxes(b, tp, te)) {
        if (x === 'tfhd') {
          const flags = u32(b, xp) & 0xffffff;
          let o = xp + 8; // version/flags + track_ID
          if (flags & 0x1) o += 8;
          if (flags & 0x2) o += 4;
          if (flags & 0x8) o += 4;
          if (flags & 0x10) o += 4;
          if (flags & 0x20) defaultFlags = u32(b, o);
        } else if (x === 'trun') {
          const flags = u32(b, xp) & 0xffffff;
          let o = xp + 8; // version/flags + sample_count
          if (flags & 0x1) o += 4;
          let sampleFlags: number | null = null;
          if (flags & 0x4) sampleFlags = u32(b, o);
          else if (flags & 0x400) {
            if (flags & 0x100) o += 4;
            if (flags & 0x200) o += 4;
            sampleFlags = u32(b, o);
          } else sampleFlags = defaultFlags;
          if (sampleFlags === null) return null;
          return (sampleFlags & 0x10000) === 0;
        }
      }
    }
  }
  return null;
}

export class LivePlayer {
  private ws: WebSocket | null = null;
  private ms: MediaSource | null = null;
  private sb: SourceBuffer | null = null;
  private objectUrl = '';
  private queue: Uint8Array[] = [];
  private needKey = true;
  private closed = false;
  private backoffMs = 500;
  private retryTimer = 0;
  private tick = 0;
  private started = 0;
  private firstFrame = false;
  private lastMessage = 0;
  private mime = '';

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly url: string,
    private readonly opts: PlayerOptions = {},
  ) {
    video.muted = true;
    video.playsInline = true;
    video.autoplay = true;
    this.watchFirstFrame();
    this.connect();
    this.tick = window.setInterval(() => this.onTick(), 250);
  }

  /** Stops playback for good (tile removed or stream switched). */
  close(): void {
    this.closed = true;
    window.clearInterval(this.tick);
    window.clearTimeout(this.retryTimer);
    this.teardown();
  }

  private set(s: PlayerState) {
    this.opts.onState?.(s);
  }

  private connect() {
    if (this.closed) return;
    this.teardown();
    this.started = performance.now();
    this.firstFrame = false;
    this.needKey = true;
    this.lastMessage = performance.now();
    this.set({ kind: 'connecting' });
    const ws = new WebSocket(this.url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    let gotAny = false;
    ws.onmessage = (ev) => {
      gotAny = true;
      this.lastMessage = performance.now();
      if (typeof ev.data === 'string') this.onHeader(ev.data);
      else this.onBinary(new Uint8Array(ev.data as ArrayBuffer));
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws || this.closed) return;
      const denied = ev.code === 1008 || ev.code === 4401 || ev.code === 4403;
      if (denied) {
        this.set({ kind: 'denied', reason: ev.reason || 'permission denied' });
        this.scheduleRetry(30_000, ev.reason || 'permission denied', false);
        return;
      }
      if (gotAny) this.backoffMs = 500;
      this.scheduleRetry(this.backoffMs, ev.reason || `closed (${ev.code})`, true);
      this.backoffMs = Math.min(this.backoffMs * 2, 10_000);
    };
  }

  private scheduleRetry(ms: number, reason: string, show: boolean) {
    this.teardown();
    if (show) this.set({ kind: 'reconnecting', inSeconds: Math.ceil(ms / 1000), reason });
    window.clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => this.connect(), ms);
  }

  private teardown() {
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onmessage = null;
      ws.onclose = null;
      try {
        ws.close();
      } catch {
        /* already closed */
      }
    }
    this.resetMedia();
  }

  /** Drops the MediaSource (new stream parameters or a new connection). */
  private resetMedia() {
    this.queue = [];
    this.sb = null;
    if (this.ms && this.ms.readyState === 'open') {
      try {
        this.ms.endOfStream();
      } catch {
        /* ignore */
      }
    }
    this.ms = null;
    if (this.objectUrl) {
      this.video.removeAttribute('src');
      this.video.load();
      URL.revokeObjectURL(this.objectUrl);
      this.objectUrl = '';
    }
  }

  private onHeader(text: string) {
    let info: { mime?: string; width?: number; height?: number };
    try {
      info = JSON.parse(text);
    } catch {
      return;
    }
    if (!info.mime) return;
    // A header mid-stream means new stream parameters (camera reconnected): start over.
    this.resetMedia();
    this.needKey = true;
    this.mime = info.mime;
    this.opts.onInfo?.({ mime: info.mime, width: info.width, height: info.height });
    if (!('MediaSource' in window) || !MediaSource.isTypeSupported(info.mime)) {
      this.set({ kind: 'unsupported', mime: info.mime });
      this.closed = true;
      this.teardown();
      return;
    }
    const ms = new MediaSource();
    this.ms = ms;
    this.objectUrl = URL.createObjectURL(ms);
    this.video.src = this.objectUrl;
    ms.addEventListener(
      'sourceopen',
      () => {
        if (this.ms !== ms) return;
        const sb = ms.addSourceBuffer(this.mime);
        sb.mode = 'segments';
        sb.addEventListener('updateend', () => {
          this.chase();
          this.pump();
        });
        sb.addEventListener('error', () => this.scheduleRetry(this.backoffMs, 'decoder error', true));
        this.sb = sb;
        this.pump();
      },
      { once: true },
    );
    this.set({ kind: 'waiting' });
  }

  private onBinary(b: Uint8Array) {
    const type = b.length >= 8 ? fourcc(b, 4) : '';
    if (type === 'ftyp' || type === 'moov') {
      this.queue.unshift(b); // the init segment goes first
      this.pump();
      return;
    }
    const key = fragmentStartsWithKey(b);
    if (this.queue.length > MAX_QUEUE) {
      // Falling behind: drop what is waiting and resume at the next key frame.
      this.queue = this.queue.filter((x) => x.length >= 8 && (fourcc(x, 4) === 'ftyp' || fourcc(x, 4) === 'moov'));
      this.needKey = true;
    }
    if (this.needKey) {
      if (key === false) return;
      this.needKey = false;
    }
    this.queue.push(b);
    this.pump();
  }

  private pump() {
    const sb = this.sb;
    if (!sb || sb.updating || this.queue.length === 0) return;
    const next = this.queue.shift()!;
    try {
      sb.appendBuffer(next as BufferSource);
    } catch (e) {
      if (e instanceof DOMException && e.name === 'QuotaExceededError') {
        this.queue.unshift(next);
        this.trim(true);
      } else {
        this.scheduleRetry(this.backoffMs, String(e), true);
      }
    }
  }

  private trim(force: boolean) {
    const sb = this.sb;
    const v = this.video;
    if (!sb || sb.updating || sb.buffered.length === 0) return;
    const start = sb.buffered.start(0);
    if (force || v.currentTime - start > TRIM_AFTER_S) {
      const until = Math.max(start, v.currentTime - KEEP_BEHIND_S);
      if (until > start) sb.remove(start, until);
    }
  }

  private onTick() {
    if (this.closed || !this.ws) return;
    if (performance.now() - this.lastMessage > STALL_MS) {
      this.scheduleRetry(this.backoffMs, 'no data', true);
      return;
    }
    this.chase();
  }

  /**
   * Keeps the play head at the live edge: jumps there when the play head is outside the
   * buffered media (first fragments, or after a skip) or more than MAX_AHEAD_S behind.
   * Runs after every append and on the timer.
   */
  private chase() {
    const v = this.video;
    const b = v.buffered;
    if (b.length > 0) {
      const end = b.end(b.length - 1);
      const lastStart = b.start(b.length - 1);
      const inside = Array.from({ length: b.length }, (_, i) => i).some(
        (i) => v.currentTime >= b.start(i) && v.currentTime <= b.end(i),
      );
      // While the server's cached GOP arrives (faster than real time) hold the play head
      // closer; afterwards jump only when more than MAX_AHEAD_S behind and close smaller
      // lags by playing slightly faster.
      const starting = performance.now() - this.started < STARTUP_MS;
      const ahead = end - v.currentTime;
      if (ahead > (starting ? STARTUP_AHEAD_S : MAX_AHEAD_S) || !inside) {
        v.currentTime = Math.max(lastStart, end - LIVE_TARGET_S);
        v.playbackRate = 1;
      } else {
        v.playbackRate = ahead > CATCH_UP_ABOVE_S ? CATCH_UP_RATE : 1;
      }
      if (v.paused) v.play().catch(() => undefined);
      if (!this.firstFrame && v.currentTime > 0 && v.readyState >= 2) this.markFirstFrame();
      this.trim(false);
    }
  }

  private markFirstFrame() {
    if (this.firstFrame) return;
    this.firstFrame = true;
    this.backoffMs = 500;
    this.set({ kind: 'playing', firstFrameMs: Math.round(performance.now() - this.started) });
  }

  /** Reports the first frame as soon as the compositor presents it. */
  private watchFirstFrame() {
    const v = this.video as HTMLVideoElement & {
      requestVideoFrameCallback?: (cb: () => void) => number;
    };
    const arm = () => {
      if (v.requestVideoFrameCallback) v.requestVideoFrameCallback(() => this.markFirstFrame());
    };
    v.addEventListener('loadeddata', arm);
    v.addEventListener('playing', () => {
      if (v.readyState >= 2 && !this.firstFrame) arm();
    });
  }
}
