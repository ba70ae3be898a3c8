#!/usr/bin/python3
"""camsim -- RTSP camera simulator for custos tests, benchmarks and the demo.

Serves N simulated cameras from one GStreamer RTSP server on a loopback port:

    rtsp://127.0.0.1:PORT/cam1, /cam2, ...          main streams
    rtsp://127.0.0.1:PORT/cam1/sub, /cam2/sub, ...  sub streams (with --sub)

Run it with the SYSTEM python (it needs the GObject bindings):

    PYENV_VERSION=system /usr/bin/python3 camsim.py --cameras 2 --sub

Required Debian packages: python3-gi python3-gi-cairo gir1.2-gst-rtsp-server-1.0
gstreamer1.0-tools gstreamer1.0-plugins-{base,good,ugly,bad} gstreamer1.0-libav.

CLI
---
  --port P               TCP port of the RTSP server (0 = pick a free one; default 0)
  --address A            listen address (default 127.0.0.1)
  --cameras N            number of cameras (default 1)
  --codec h264|h265      x264enc / x265enc (default h264)
  --width W --height H   main stream size (default 640x360)
  --fps F                frame rate, integer (default 15)
  --bitrate KBPS         main stream bitrate (default 500)
  --gop FRAMES           key frame interval (default 2*fps); scene-cut key frames are off
  --bframes N            B-frames between references (default 0).  With N>0 the stream
                         really contains B-frames (no tune=zerolatency, b-adapt off).
  --sub                  also serve /camK/sub
  --sub-width/--sub-height  sub stream size (default 320x180), same fps,
  --sub-bitrate KBPS     sub stream bitrate (default max(100, bitrate/4))
  --auth USER:PASS       require RTSP digest authentication
  --timecode / --no-timecode   draw the machine-readable clock (default on)
  --transport tcp|udp|both     allowed RTP lower transports (default both)
  --make-clip FILE --seconds S  encode a clip (Annex-B .h264/.h265 elementary stream,
                         a whole number of GOPs, no timecode) with the codec/size/fps/
                         bitrate/gop/bframes options, then exit.
  --quirk Q              behave like a camera with quirk Q (repeatable; see "Quirks")
  --loop FILE            serve FILE (Annex-B, made by --make-clip, codec taken from the
                         extension .h265/.hevc or from --codec) on every camera without
                         re-encoding; --fps must match the clip.  The clip is split into
                         access units once and pushed round-robin from a live appsrc with
                         continuously increasing timestamps; the loop point is the clip's
                         first (IDR) frame.  No timecode is drawn, `scene` is refused.
                         Clips with B-frames are not supported in loop mode.

Protocol
--------
stdout carries only protocol lines.  At startup, once the server socket listens:

    READY rtsp://127.0.0.1:PORT/

Then commands are read from stdin, one per line, each answered with one line
`OK <command as given>` or `ERR <reason>`:

    stop camK             close every client session of camera K (main and sub) and
                          refuse new ones (404) until started again
    start camK            serve camera K again
    stall camK SECONDS    keep the sessions up but send no frames for SECONDS
    scene camK            switch camera K's test pattern ("camera moved")
    resize camK W H       change camera K's main picture size mid-stream: the encoder
                          starts over with a new SPS (and PPS) and a key frame
    quit                  exit

stdin EOF, SIGTERM and SIGINT also make it exit (status 0).  Logs go to stderr.

Quirks (--quirk, repeatable; they apply to the main video stream of every camera)
------
  fmtp-semicolon     the SDP's a=fmtp line ends with ';'
  sdp-only-params    parameter sets (SPS/PPS, and VPS for H.265) only in the SDP: they are
                     removed from the RTP stream and the sequence numbers closed up
  midfrag            a new media starts sending in the middle of a fragmented NAL unit
                     (FU-A/FU with the start bit unset), as a UDP join does; packets are
                     small (mtu 600) so most pictures are fragmented
  loss=RATE          drop RTP packets at random with probability RATE (fixed seed)
  reorder=RATE       swap an RTP packet with the next one with probability RATE
  ts-jump=S@T        T seconds after a media starts, its RTP timestamps jump by S seconds
                     (negative: backwards)
  no-rtcp            no RTCP (no sender reports)
  audio-first        an A-law audio track is the first track of the SDP, video the second
  burst-loss=N@T     T seconds after a media starts, drop N consecutive RTP packets
The RTP rewriting is done by a pad probe on the payloader's source pad that drops packets
or replaces them with rewritten copies; it logs what it did to stderr.

Timecode layout (--timecode)
----------------------------
Every picture carries the Unix wall-clock time, in milliseconds, of that frame (the
wall time of the buffer's running time: the realtime/running-time offset is captured
on the first frame of each media pipeline).  It is drawn as square cells at the
top-left corner of the picture:

    S = cell size in pixels = min(16, width // 32) rounded down to even (minimum 4)
        (320 wide -> 10, 640 wide and more -> 16)
    two rows of 30 cells: row 0 occupies y in [0, S), row 1 y in [S, 2S);
    cell c of a row occupies x in [c*S, (c+1)*S).
    white cell = 1, black cell = 0.
    row 0: cells 0,1 = start marker white, black
           cells 2..25  = bits 47..24 of T (most significant first)
           cells 26..29 = bits 7..4 of CHECK
    row 1: cells 0,1 = start marker black, white
           cells 2..25  = bits 23..0 of T
           cells 26..29 = bits 3..0 of CHECK
    T     = wall-clock milliseconds since the Unix epoch (48 bits)
    CHECK = (sum of the 6 big-endian bytes of T) mod 256, XOR 0xA5

A reader samples the mean luma of the central half of each cell and thresholds it at
128; a code is valid only if both markers and CHECK match.

A human-readable clock (clockoverlay, with the camera name) is drawn bottom-right.
"""

import argparse
import os
import random
import signal
import sys
import threading
import time

try:
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtsp", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    gi.require_version("GstSdp", "1.0")
    from gi.repository import GLib, GObject, Gst, GstRtsp, GstRtspServer, GstSdp  # noqa: E402

    gi.require_foreign("cairo")  # cairooverlay's draw signal needs python3-gi-cairo
except (ImportError, ValueError) as e:  # pragma: no cover
    sys.stderr.write(
        "camsim: cannot import GStreamer RTSP server bindings (%s).\n"
        "install: apt-get install -y python3-gi python3-gi-cairo "
        "gir1.2-gst-rtsp-server-1.0 gstreamer1.0-tools gstreamer1.0-plugins-base "
        "gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-plugins-bad "
        "gstreamer1.0-libav\n" % e
    )
    sys.exit(3)

PATTERNS = [
    "smpte",
    "ball",
    "pinwheel",
    "spokes",
    "colors",
    "circular",
    "gradient",
    "smpte75",
    "checkers-8",
    "bar",
]

CELLS_PER_ROW = 30


def log(msg):
    sys.stderr.write("camsim: %s\n" % msg)
    sys.stderr.flush()


def reply(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


# --------------------------------------------------------------------------- timecode


def cell_size(width):
    s = min(16, width // 32)
    s -= s % 2
    return max(4, s)


def timecode_cells(t_ms):
    """Returns (row0, row1): lists of 30 bits each, as documented above."""
    t = int(t_ms) & ((1 << 48) - 1)
    by = t.to_bytes(6, "big")
    check = (sum(by) & 0xFF) ^ 0xA5
    hi = [(t >> (47 - i)) & 1 for i in range(24)]
    lo = [(t >> (23 - i)) & 1 for i in range(24)]
    row0 = [1, 0] + hi + [(check >> (7 - i)) & 1 for i in range(4)]
    row1 = [0, 1] + lo + [(check >> (3 - i)) & 1 for i in range(4)]
    return row0, row1


class TimecodeDrawer:
    """cairooverlay 'draw' handler; one per media pipeline."""

    def __init__(self, width):
        self.s = cell_size(width)
        self.offset_ns = None

    def draw(self, overlay, ctx, timestamp, _duration):
        if timestamp is None or timestamp == Gst.CLOCK_TIME_NONE:
            return
        if self.offset_ns is None:
            clock = overlay.get_clock()
            now_real = time.time_ns()
            if clock is not None:
                running = clock.get_time() - overlay.get_base_time()
                self.offset_ns = now_real - running
            else:
                self.offset_ns = now_real - timestamp
        wall_ms = (self.offset_ns + timestamp) // 1_000_000
        s = self.s
        rows = timecode_cells(wall_ms)
        for bit_value, rgb in ((1, (1.0, 1.0, 1.0)), (0, (0.0, 0.0, 0.0))):
            ctx.set_source_rgb(*rgb)
            for r, row in enumerate(rows):
                for c, bit in enumerate(row):
                    if bit == bit_value:
                        ctx.rectangle(c * s, r * s, s, s)
            ctx.fill()


# --------------------------------------------------------------------------- encoders


def encoder_desc(codec, bitrate, gop, bframes, fps):
    if codec == "h264":
        if bframes > 0:
            return (
                "x264enc speed-preset=superfast bitrate=%d key-int-max=%d bframes=%d "
                "b-adapt=false b-pyramid=false rc-lookahead=%d threads=1 option-string=scenecut=0 "
                "! video/x-h264,profile=main"
                % (bitrate, gop, bframes, max(bframes + 1, 2))
            )
        return (
            "x264enc speed-preset=ultrafast tune=zerolatency bitrate=%d key-int-max=%d "
            "bframes=0 threads=1 option-string=scenecut=0" % (bitrate, gop)
        )
    if codec == "h265":
        opts = "scenecut=0:open-gop=0:bframes=%d" % bframes
        tune = ""
        if bframes > 0:
            opts += ":b-adapt=0:b-pyramid=0:rc-lookahead=%d" % max(bframes + 1, 2)
        else:
            tune = "tune=zerolatency "
        return (
            "x265enc speed-preset=ultrafast %sbitrate=%d key-int-max=%d log-level=none "
            'option-string="%s"' % (tune, bitrate, gop, opts)
        )
    raise ValueError("unknown codec %r" % codec)


def parse_and_pay(codec, name="pay0", quirks=None):
    q = quirks or Quirks([])
    extra = " mtu=600" if q.midfrag else ""
    if q.sdp_only_params:
        extra += " aggregate-mode=none"
    if codec == "h264":
        return "h264parse config-interval=-1 ! rtph264pay name=%s pt=96 config-interval=0%s" % (
            name,
            extra,
        )
    return "h265parse config-interval=-1 ! rtph265pay name=%s pt=96 config-interval=0%s" % (
        name,
        extra,
    )


# --------------------------------------------------------------------------- quirks


class Quirks:
    """The parsed --quirk options."""

    def __init__(self, specs):
        self.fmtp_semicolon = False
        self.sdp_only_params = False
        self.midfrag = False
        self.loss = 0.0
        self.reorder = 0.0
        self.ts_jump = None  # (seconds, after seconds)
        self.burst_loss = None  # (packets, after seconds)
        self.no_rtcp = False
        self.audio_first = False
        for spec in specs:
            name, _, value = spec.partition("=")
            try:
                if name == "fmtp-semicolon":
                    self.fmtp_semicolon = True
                elif name == "sdp-only-params":
                    self.sdp_only_params = True
                elif name == "midfrag":
                    self.midfrag = True
                elif name == "loss":
                    self.loss = float(value)
                elif name == "reorder":
                    self.reorder = float(value)
                elif name == "ts-jump":
                    a, _, b = value.partition("@")
                    self.ts_jump = (float(a), float(b or 0))
                elif name == "burst-loss":
                    a, _, b = value.partition("@")
                    self.burst_loss = (int(a), float(b or 0))
                elif name == "no-rtcp":
                    self.no_rtcp = True
                elif name == "audio-first":
                    self.audio_first = True
                else:
                    raise ValueError("unknown quirk")
            except ValueError as e:
                raise SystemExit("camsim: bad --quirk %r: %s" % (spec, e))

    def rewrites_rtp(self):
        return bool(
            self.sdp_only_params
            or self.midfrag
            or self.loss
            or self.reorder
            or self.ts_jump
            or self.burst_loss
        )


_QUIRK_MEDIA = []


def quirk_media_type():
    """A media type whose SDP ends every a=fmtp line with ';' (fmtp-semicolon).  Defined only
    when asked for: registering a Python subclass of GstRTSPMedia is not free (PyGObject warns
    about the class's signals)."""
    if _QUIRK_MEDIA:
        return _QUIRK_MEDIA[0]

    class QuirkMedia(GstRtspServer.RTSPMedia):
        def do_setup_sdp(self, sdp, info):
            ok = GstRtspServer.RTSPMedia.do_setup_sdp(self, sdp, info)
            for i in range(sdp.medias_len()):
                m = sdp.get_media(i)
                for j in range(m.attributes_len()):
                    a = m.get_attribute(j)
                    if a.key == "fmtp" and not a.value.endswith(";"):
                        attr = GstSdp.SDPAttribute()
                        attr.set("fmtp", a.value + ";")
                        m.replace_attribute(j, attr)
            return ok

    _QUIRK_MEDIA.append(QuirkMedia.__gtype__)
    return _QUIRK_MEDIA[0]


class RtpRewriter:
    """Pad probe on a video payloader's src pad that plays a misbehaving camera."""

    def __init__(self, cam, quirks, codec):
        self.cam = cam
        self.q = quirks
        self.h265 = codec == "h265"
        self.rng = random.Random(20261202)
        self.pushing = False
        self.waiting_midfrag = quirks.midfrag
        self.removed = 0
        self.stash = None
        self.t0 = None
        self.jumped = False
        self.last_ts = None
        self.burst_left = None
        self.counts = {"params": 0, "lost": 0, "reordered": 0, "joined": 0}

    def nal_info(self, payload):
        """(is parameter set, is fragment, start bit, end bit)"""
        if not payload:
            return False, False, False, False
        if self.h265:
            t = (payload[0] >> 1) & 0x3F
            if t == 49 and len(payload) > 2:
                fu = payload[2]
                return False, True, bool(fu & 0x80), bool(fu & 0x40)
            return t in (32, 33, 34), False, False, False
        t = payload[0] & 0x1F
        if t == 28 and len(payload) > 1:
            fu = payload[1]
            return False, True, bool(fu & 0x80), bool(fu & 0x40)
        return t in (7, 8), False, False, False

    def push(self, pad, data, like):
        nb = Gst.Buffer.new_wrapped(bytes(data))
        nb.pts, nb.dts, nb.duration = like.pts, like.dts, like.duration
        self.pushing = True
        try:
            pad.push(nb)
        finally:
            self.pushing = False

    def probe(self, pad, info):
        if self.pushing:
            return Gst.PadProbeReturn.OK
        if info.type & Gst.PadProbeType.BUFFER_LIST:
            # Payloaders push the fragments of a NAL unit as one list: take it apart.
            lst = info.get_buffer_list()
            for b in [lst.get(i) for i in range(lst.length())]:
                self.handle(pad, b, True)
            return Gst.PadProbeReturn.DROP
        return self.handle(pad, info.get_buffer(), False)

    def handle(self, pad, buf, must_push):
        """Drops, rewrites or passes one RTP packet.  With `must_push` the packet is never
        passed on by returning OK (it came in a list that is dropped): it is pushed."""
        data = bytearray(buf.extract_dup(0, buf.get_size()))
        if len(data) < 12:
            if must_push:
                self.push(pad, data, buf)
            return Gst.PadProbeReturn.OK
        hl = 12 + 4 * (data[0] & 0x0F)
        if data[0] & 0x10 and len(data) >= hl + 4:
            hl += 4 + 4 * int.from_bytes(data[hl + 2 : hl + 4], "big")
        is_param, is_frag, start, end = self.nal_info(data[hl:])
        now = time.monotonic()
        if self.t0 is None:
            self.t0 = now
        if self.waiting_midfrag:
            if is_frag and not start and not end:
                self.waiting_midfrag = False
                log("%s: quirk midfrag: first packet sent is the middle of a fragment" % self.cam.name)
            else:
                self.counts["joined"] += 1
                return Gst.PadProbeReturn.DROP
        if self.q.sdp_only_params and is_param:
            self.removed += 1
            self.counts["params"] += 1
            return Gst.PadProbeReturn.DROP
        if self.q.burst_loss and self.burst_left is None and now - self.t0 >= self.q.burst_loss[1]:
            self.burst_left = self.q.burst_loss[0]
            log("%s: quirk burst-loss: dropping %d packets" % (self.cam.name, self.burst_left))
        if self.burst_left:
            self.burst_left -= 1
            self.counts["lost"] += 1
            return Gst.PadProbeReturn.DROP
        if self.q.loss and self.rng.random() < self.q.loss:
            self.counts["lost"] += 1
            return Gst.PadProbeReturn.DROP
        modified = False
        if self.removed:
            seq = (int.from_bytes(data[2:4], "big") - self.removed) & 0xFFFF
            data[2:4] = seq.to_bytes(2, "big")
            modified = True
        orig_ts = int.from_bytes(data[4:8], "big")
        new_frame = orig_ts != self.last_ts
        self.last_ts = orig_ts
        # A camera's clock jumps between pictures, never inside one.
        if self.q.ts_jump and (self.jumped or (new_frame and now - self.t0 >= self.q.ts_jump[1])):
            if not self.jumped:
                self.jumped = True
                log("%s: quirk ts-jump: RTP timestamps jump by %+.1f s" % (self.cam.name, self.q.ts_jump[0]))
            ts = (int.from_bytes(data[4:8], "big") + int(self.q.ts_jump[0] * 90000)) & 0xFFFFFFFF
            data[4:8] = ts.to_bytes(4, "big")
            modified = True
        if self.q.reorder and self.stash is None and self.rng.random() < self.q.reorder:
            self.stash = (data, buf)
            self.counts["reordered"] += 1
            return Gst.PadProbeReturn.DROP
        if not modified and self.stash is None and not must_push:
            return Gst.PadProbeReturn.OK
        self.push(pad, data, buf)
        if self.stash is not None:
            held, like = self.stash
            self.stash = None
            self.push(pad, held, like)
        return Gst.PadProbeReturn.DROP


# --------------------------------------------------------------------------- clip (loop mode)


def split_nals(data):
    """Split an Annex-B stream into NAL units (without start codes)."""
    nals = []
    i = data.find(b"\x00\x00\x01")
    if i < 0:
        return nals
    start = i + 3
    n = len(data)
    while True:
        j = data.find(b"\x00\x00\x01", start)
        if j < 0:
            nals.append(data[start:n])
            break
        end = j
        # a 4-byte start code: drop the zero that belongs to it
        if end > start and data[end - 1] == 0:
            end -= 1
        nals.append(data[start:end])
        start = j + 3
    return [x for x in nals if x]


def split_access_units(data, codec):
    """Group NAL units into access units. Returns (aus, key_flags)."""
    aus = []
    keys = []
    cur = []
    cur_has_vcl = False
    cur_key = False
    for nal in split_nals(data):
        if codec == "h264":
            t = nal[0] & 0x1F
            is_vcl = 1 <= t <= 5
            first_slice = is_vcl and len(nal) > 1 and (nal[1] & 0x80) != 0
            starts_au_nonvcl = t in (6, 7, 8, 9) or 14 <= t <= 18
            is_key = t == 5
        else:
            t = (nal[0] >> 1) & 0x3F
            is_vcl = t < 32
            first_slice = is_vcl and len(nal) > 2 and (nal[2] & 0x80) != 0
            starts_au_nonvcl = t in (32, 33, 34, 35, 39) or 41 <= t <= 44
            is_key = 16 <= t <= 21
        new_au = cur_has_vcl and (starts_au_nonvcl or first_slice)
        if new_au:
            aus.append(b"".join(b"\x00\x00\x00\x01" + x for x in cur))
            keys.append(cur_key)
            cur, cur_has_vcl, cur_key = [], False, False
        cur.append(nal)
        if is_vcl:
            cur_has_vcl = True
        if is_key:
            cur_key = True
    if cur and cur_has_vcl:
        aus.append(b"".join(b"\x00\x00\x00\x01" + x for x in cur))
        keys.append(cur_key)
    return aus, keys


def make_clip(args):
    Gst.init(None)
    codec = args.codec
    frames = args.seconds * args.fps
    if frames % args.gop:
        frames += args.gop - frames % args.gop
    enc = encoder_desc(codec, args.bitrate, args.gop, args.bframes, args.fps)
    parser = "h264parse" if codec == "h264" else "h265parse"
    caps = "video/x-%s,stream-format=byte-stream,alignment=au" % codec
    desc = (
        "videotestsrc num-buffers=%d pattern=ball "
        "! video/x-raw,width=%d,height=%d,framerate=%d/1 "
        '! timeoverlay text="loop clip" halignment=right valignment=bottom '
        "! videoconvert ! video/x-raw,format=I420 ! %s ! %s ! %s "
        '! filesink location="%s"'
        % (frames, args.width, args.height, args.fps, enc, parser, caps, args.make_clip)
    )
    log("make-clip: %s" % desc)
    pipe = Gst.parse_launch(desc)
    pipe.set_state(Gst.State.PLAYING)
    bus = pipe.get_bus()
    msg = bus.timed_pop_filtered(
        600 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR
    )
    pipe.set_state(Gst.State.NULL)
    if msg is None or msg.type == Gst.MessageType.ERROR:
        if msg is not None:
            err, dbg = msg.parse_error()
            log("make-clip failed: %s (%s)" % (err, dbg))
        else:
            log("make-clip timed out")
        return 1
    with open(args.make_clip, "rb") as f:
        aus, keys = split_access_units(f.read(), codec)
    log("make-clip: wrote %s: %d frames, %d key frames" % (args.make_clip, len(aus), sum(keys)))
    return 0


class LoopFeeder:
    """Pushes the clip's access units from a live appsrc, paced in real time."""

    def __init__(self, cam, appsrc, aus, fps):
        self.cam = cam
        self.appsrc = appsrc
        self.aus = aus
        self.fps = fps
        self.stopped = False
        self.thread = threading.Thread(target=self.run, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopped = True

    def run(self):
        dur = Gst.SECOND // self.fps
        # wait for the pipeline clock (live media go to PLAYING while preparing)
        deadline = time.monotonic() + 30
        while not self.stopped and self.appsrc.get_clock() is None:
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        if self.stopped:
            return
        clock = self.appsrc.get_clock()
        t0 = max(0, clock.get_time() - self.appsrc.get_base_time())
        mono0 = time.monotonic()
        frame_no = 0  # counts real-time frame slots (keeps counting during stalls)
        au_index = 0  # position in the clip (advances only when a frame is sent)
        while not self.stopped:
            target = mono0 + frame_no / self.fps
            delay = target - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if self.stopped:
                break
            if time.monotonic() >= self.cam.stalled_until:
                data = self.aus[au_index]
                buf = Gst.Buffer.new_wrapped(data)
                buf.pts = t0 + frame_no * dur
                buf.dts = buf.pts
                buf.duration = dur
                ret = self.appsrc.emit("push-buffer", buf)
                if ret not in (Gst.FlowReturn.OK,):
                    if ret in (Gst.FlowReturn.FLUSHING, Gst.FlowReturn.EOS):
                        break
                au_index = (au_index + 1) % len(self.aus)
            frame_no += 1


# --------------------------------------------------------------------------- cameras


class Camera:
    def __init__(self, sim, index):
        self.sim = sim
        self.index = index
        self.name = "cam%d" % index
        self.scene = (index - 1) % len(PATTERNS)
        self.running = False
        self.medias = []  # live GstRTSPMedia objects of this camera
        self.stalled_until = 0.0
        self.paths = ["/" + self.name] + (["/%s/sub" % self.name] if sim.args.sub else [])
        self.factories = {}

    def pattern(self):
        return PATTERNS[self.scene % len(PATTERNS)]

    def launch_desc(self, sub):
        a = self.sim.args
        if a.loop:
            caps = "video/x-%s,stream-format=byte-stream,alignment=au,framerate=%d/1" % (
                self.sim.loop_codec,
                a.fps,
            )
            return "( appsrc name=src is-live=true format=time do-timestamp=false caps=%s ! %s %s)" % (
                caps,
                parse_and_pay(self.sim.loop_codec, self.video_pay(sub), self.quirks(sub)),
                self.audio_desc(sub),
            )
        w, h = (a.sub_width, a.sub_height) if sub else (a.width, a.height)
        bitrate = a.sub_bitrate if sub else a.bitrate
        label = self.name + ("/sub" if sub else "")
        font = max(8, h // 30)
        tc = "! cairooverlay name=tc " if a.timecode else ""
        return (
            "( videotestsrc name=vsrc is-live=true pattern=%s "
            "! video/x-raw,format=BGRx,width=%d,height=%d,framerate=%d/1 "
            '! clockoverlay text="%s" time-format="%%Y-%%m-%%d %%H:%%M:%%S" '
            'halignment=right valignment=bottom shaded-background=true font-desc="Sans %d" '
            "%s! valve name=valve drop=false "
            "! videoscale ! capsfilter name=res caps=video/x-raw,width=%d,height=%d "
            "! videoconvert ! video/x-raw,format=I420 ! %s ! %s %s)"
            % (
                self.pattern(),
                w,
                h,
                a.fps,
                label,
                font,
                tc,
                w,
                h,
                encoder_desc(a.codec, bitrate, a.gop, a.bframes, a.fps),
                parse_and_pay(a.codec, self.video_pay(sub), self.quirks(sub)),
                self.audio_desc(sub),
            )
        )

    def quirks(self, sub):
        return Quirks([]) if sub else self.sim.quirks

    def video_pay(self, sub):
        return "pay1" if self.quirks(sub).audio_first else "pay0"

    def audio_desc(self, sub):
        if not self.quirks(sub).audio_first:
            return ""
        return (
            "audiotestsrc is-live=true wave=silence samplesperbuffer=160 "
            "! audio/x-raw,rate=8000,channels=1 ! alawenc ! rtppcmapay name=pay0 pt=8 "
        )

    def make_factory(self, sub):
        f = GstRtspServer.RTSPMediaFactory()
        f.set_launch(self.launch_desc(sub))
        f.set_shared(True)
        f.set_protocols(self.sim.protocols)
        if self.sim.permissions is not None:
            f.set_permissions(self.sim.permissions)
        q = self.quirks(sub)
        if q.fmtp_semicolon:
            f.set_media_gtype(quirk_media_type())
        if q.no_rtcp:
            f.set_enable_rtcp(False)
        f.connect("media-configure", self.on_media_configure, sub)
        return f

    def on_media_configure(self, _factory, media, sub):
        a = self.sim.args
        self.medias.append(media)
        media._camsim_sub = sub
        media.connect("unprepared", self.on_media_unprepared)
        bin_ = media.get_element()
        feeder = None
        if a.loop:
            appsrc = bin_.get_by_name("src")
            feeder = LoopFeeder(self, appsrc, self.sim.loop_aus, a.fps)
        elif a.timecode:
            width = a.sub_width if sub else a.width
            drawer = TimecodeDrawer(width)
            bin_.get_by_name("tc").connect("draw", drawer.draw)
            media._camsim_drawer = drawer  # keep it alive with the media
        q = self.quirks(sub)
        if q.rewrites_rtp():
            pay = bin_.get_by_name(self.video_pay(sub))
            codec = self.sim.loop_codec if a.loop else a.codec
            rw = RtpRewriter(self, q, codec)
            pay.get_static_pad("src").add_probe(
                Gst.PadProbeType.BUFFER | Gst.PadProbeType.BUFFER_LIST, rw.probe
            )
            media._camsim_rewriter = rw
        if feeder is not None:
            media._camsim_feeder = feeder
            feeder.start()
        if not a.loop and time.monotonic() < self.stalled_until:
            self.set_valves(True, [media])
        log("%s: media configured (%s)" % (self.name, "sub" if sub else "main"))

    def on_media_unprepared(self, media):
        feeder = getattr(media, "_camsim_feeder", None)
        if feeder is not None:
            feeder.stop()
        if media in self.medias:
            self.medias.remove(media)

    def start(self):
        if self.running:
            return
        mounts = self.sim.server.get_mount_points()
        for path in self.paths:
            f = self.make_factory(path.endswith("/sub"))
            self.factories[path] = f
            mounts.add_factory(path, f)
        self.running = True

    def stop(self):
        mounts = self.sim.server.get_mount_points()
        for path in self.paths:
            mounts.remove_factory(path)
        self.factories = {}
        self.running = False
        medias = list(self.medias)
        if not medias:
            return

        def session_uses_camera(session):
            found = []

            def check(_sess, smedia, *_):
                if smedia.get_media() in medias:
                    found.append(True)
                return GstRtspServer.RTSPFilterResult.KEEP

            session.filter(check)
            return bool(found)

        def client_filter(_server, client, *_):
            hit = []

            def sess_filter(_client, session, *_):
                if session_uses_camera(session):
                    hit.append(True)
                return GstRtspServer.RTSPFilterResult.KEEP

            client.session_filter(sess_filter)
            return (
                GstRtspServer.RTSPFilterResult.REMOVE
                if hit
                else GstRtspServer.RTSPFilterResult.KEEP
            )

        self.sim.server.client_filter(client_filter)

        def pool_filter(_pool, session, *_):
            if session_uses_camera(session):
                return GstRtspServer.RTSPFilterResult.REMOVE
            return GstRtspServer.RTSPFilterResult.KEEP

        self.sim.server.get_session_pool().filter(pool_filter)
        for m in medias:
            feeder = getattr(m, "_camsim_feeder", None)
            if feeder is not None:
                feeder.stop()
            try:
                m.unprepare()
            except Exception as e:  # noqa: BLE001
                log("%s: unprepare: %s" % (self.name, e))
        self.medias = []

    def set_valves(self, drop, medias=None):
        for m in medias if medias is not None else self.medias:
            v = m.get_element().get_by_name("valve")
            if v is not None:
                v.set_property("drop", drop)

    def stall(self, secs):
        self.stalled_until = time.monotonic() + secs
        if self.sim.args.loop:
            return  # the feeder checks stalled_until
        self.set_valves(True)

        def end():
            if time.monotonic() >= self.stalled_until - 0.001:
                self.set_valves(False)
            return False

        GLib.timeout_add(max(1, int(secs * 1000)), end)

    def resize(self, width, height):
        for m in self.medias:
            res = m.get_element().get_by_name("res")
            if res is None or getattr(m, "_camsim_sub", False):
                continue  # loop mode, or the sub stream (it keeps its size)
            res.set_property(
                "caps", Gst.Caps.from_string("video/x-raw,width=%d,height=%d" % (width, height))
            )
        log("%s: resized to %dx%d" % (self.name, width, height))

    def change_scene(self):
        self.scene += 1
        for m in self.medias:
            src = m.get_element().get_by_name("vsrc")
            if src is not None:
                Gst.util_set_object_arg(src, "pattern", self.pattern())


class Sim:
    def __init__(self, args):
        self.args = args
        self.loop = GLib.MainLoop()
        self.server = GstRtspServer.RTSPServer()
        self.server.set_address(args.address)
        self.server.set_service(str(args.port))
        self.protocols = {
            "tcp": GstRtsp.RTSPLowerTrans.TCP,
            "udp": GstRtsp.RTSPLowerTrans.UDP,
            "both": GstRtsp.RTSPLowerTrans.TCP | GstRtsp.RTSPLowerTrans.UDP,
        }[args.transport]
        self.permissions = None
        if args.auth:
            user, _, password = args.auth.partition(":")
            auth = GstRtspServer.RTSPAuth()
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
            token = GstRtspServer.RTSPToken()
            token.set_string("media.factory.role", "user")
            auth.add_digest(user, password, token)
            self.server.set_auth(auth)
            perms = GstRtspServer.RTSPPermissions()
            perms.add_permission_for_role("user", "media.factory.access", True)
            perms.add_permission_for_role("user", "media.factory.construct", True)
            self.permissions = perms
        self.loop_aus = None
        self.loop_codec = args.codec
        if args.loop:
            lower = args.loop.lower()
            if lower.endswith(".h265") or lower.endswith(".hevc") or lower.endswith(".265"):
                self.loop_codec = "h265"
            elif lower.endswith(".h264") or lower.endswith(".264"):
                self.loop_codec = "h264"
            with open(args.loop, "rb") as f:
                aus, keys = split_access_units(f.read(), self.loop_codec)
            if not aus or not keys[0]:
                raise SystemExit("camsim: %s: no access units or does not start with a key frame" % args.loop)
            self.loop_aus = aus
            log("loop: %s: %d access units, %d key frames" % (args.loop, len(aus), sum(keys)))
        self.quirks = Quirks(args.quirk)
        self.cameras = [Camera(self, i + 1) for i in range(args.cameras)]

    def camera(self, name):
        if not name.startswith("cam"):
            return None
        try:
            k = int(name[3:])
        except ValueError:
            return None
        if 1 <= k <= len(self.cameras):
            return self.cameras[k - 1]
        return None

    def handle(self, line):
        parts = line.split()
        if not parts:
            return None
        cmd = parts[0]
        if cmd == "quit":
            reply("OK quit")
            self.loop.quit()
            return None
        if cmd not in ("stop", "start", "stall", "scene", "resize"):
            return "ERR unknown command %s" % cmd
        if len(parts) < 2:
            return "ERR missing camera"
        cam = self.camera(parts[1])
        if cam is None:
            return "ERR unknown camera %s" % parts[1]
        if cmd == "stop":
            cam.stop()
        elif cmd == "start":
            cam.start()
        elif cmd == "stall":
            if len(parts) < 3:
                return "ERR missing seconds"
            try:
                secs = float(parts[2])
            except ValueError:
                return "ERR bad seconds %s" % parts[2]
            if secs < 0:
                return "ERR bad seconds %s" % parts[2]
            cam.stall(secs)
        elif cmd == "resize":
            if self.args.loop:
                return "ERR resize not supported in loop mode"
            try:
                w, h = int(parts[2]), int(parts[3])
            except (IndexError, ValueError):
                return "ERR resize wants WIDTH HEIGHT"
            if w < 16 or h < 16 or w % 2 or h % 2:
                return "ERR bad size %sx%s (even, at least 16)" % (parts[2], parts[3])
            cam.resize(w, h)
        elif cmd == "scene":
            if self.args.loop:
                return "ERR scene not supported in loop mode"
            cam.change_scene()
        return "OK " + " ".join(parts)

    def on_stdin(self, source, condition):
        if condition & (GLib.IOCondition.HUP | GLib.IOCondition.ERR):
            line = sys.stdin.readline()
            if not line:
                self.loop.quit()
                return False
        else:
            line = sys.stdin.readline()
            if not line:
                self.loop.quit()
                return False
        try:
            out = self.handle(line.strip())
        except Exception as e:  # noqa: BLE001
            out = "ERR %s" % e
        if out:
            reply(out)
        return True

    def run(self):
        for cam in self.cameras:
            cam.start()
        if self.server.attach(None) == 0:
            log("cannot bind %s:%s" % (self.args.address, self.args.port))
            return 2
        port = self.server.get_bound_port()
        GLib.io_add_watch(
            GLib.IOChannel.unix_new(sys.stdin.fileno()),
            GLib.PRIORITY_DEFAULT,
            GLib.IOCondition.IN | GLib.IOCondition.HUP | GLib.IOCondition.ERR,
            self.on_stdin,
        )
        for sig in (signal.SIGTERM, signal.SIGINT):
            GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, self.on_signal)
        # periodically expire timed-out sessions
        GLib.timeout_add_seconds(2, self.cleanup_sessions)
        log(
            "serving %d camera(s), %s %dx%d@%d%s%s"
            % (
                len(self.cameras),
                self.loop_codec if self.args.loop else self.args.codec,
                self.args.width,
                self.args.height,
                self.args.fps,
                " loop=" + self.args.loop if self.args.loop else "",
                " +sub" if self.args.sub else "",
            )
        )
        reply("READY rtsp://%s:%d/" % (self.args.address, port))
        self.loop.run()
        for cam in self.cameras:
            try:
                cam.stop()
            except Exception:  # noqa: BLE001
                pass
        return 0

    def on_signal(self):
        self.loop.quit()
        return False

    def cleanup_sessions(self):
        self.server.get_session_pool().cleanup()
        return True


def parse_args(argv):
    p = argparse.ArgumentParser(description="RTSP camera simulator (see module docstring)")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--address", default="127.0.0.1")
    p.add_argument("--cameras", type=int, default=1)
    p.add_argument("--codec", choices=["h264", "h265"], default="h264")
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=360)
    p.add_argument("--fps", type=int, default=15)
    p.add_argument("--bitrate", type=int, default=500)
    p.add_argument("--gop", type=int, default=0, help="key frame interval (default 2*fps)")
    p.add_argument("--bframes", type=int, default=0)
    p.add_argument("--sub", action="store_true")
    p.add_argument("--sub-width", type=int, default=320)
    p.add_argument("--sub-height", type=int, default=180)
    p.add_argument("--sub-bitrate", type=int, default=0)
    p.add_argument("--auth", default=None, help="USER:PASS (digest)")
    p.add_argument("--timecode", dest="timecode", action="store_true", default=True)
    p.add_argument("--no-timecode", dest="timecode", action="store_false")
    p.add_argument("--transport", choices=["tcp", "udp", "both"], default="both")
    p.add_argument("--make-clip", default=None, metavar="FILE")
    p.add_argument("--seconds", type=int, default=4)
    p.add_argument("--loop", default=None, metavar="FILE")
    p.add_argument("--quirk", action="append", default=[], metavar="Q")
    a = p.parse_args(argv)
    if a.gop <= 0:
        a.gop = 2 * a.fps
    if a.sub_bitrate <= 0:
        a.sub_bitrate = max(100, a.bitrate // 4)
    if a.cameras < 1 or a.fps < 1 or a.width < 16 or a.height < 16:
        p.error("bad --cameras/--fps/--width/--height")
    if a.auth is not None and ":" not in a.auth:
        p.error("--auth wants USER:PASS")
    return a


def main(argv):
    args = parse_args(argv)
    if args.make_clip:
        return make_clip(args)
    Gst.init(None)
    sim = Sim(args)
    return sim.run()


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)
