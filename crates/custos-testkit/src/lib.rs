//! custos-testkit: the camera-simulator harness and media checks used by custos tests,
//! benchmarks and the demo.
//!
//! It owns:
//! - [`CAMSIM_PY`], the embedded `tools/camsim/camsim.py` RTSP camera simulator, and
//!   [`Camsim`], which runs it as a child process (system python + GStreamer), parses its
//!   `READY` line and drives its fault controls (stop/start/stall/scene) over stdin;
//! - thin wrappers around `ffprobe`/`ffmpeg` ([`ffprobe_json`], [`ffprobe_frames`],
//!   [`ffmpeg_decode_errors`], [`pull_rtsp`]) and the reader of the simulator's
//!   machine-readable burned-in clock ([`read_timecode_ms`], [`decode_timecode`]).
//!
//! It must not: be a dependency of production code paths (only tests, benches, the demo),
//! print to stdout, silently skip when a tool is missing (it panics with the package to
//! install), or run an external command without a timeout.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The camera simulator script, embedded so the custos binary can run it from anywhere.
pub const CAMSIM_PY: &str = include_str!("../../../tools/camsim/camsim.py");

/// Python interpreter used for the simulator (needs the GObject bindings, so the system one).
pub const SYSTEM_PYTHON: &str = "/usr/bin/python3";

/// Debian packages the simulator needs.
pub const CAMSIM_APT_PACKAGES: &str = "python3-gi python3-gi-cairo gir1.2-gst-rtsp-server-1.0 \
gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
gstreamer1.0-plugins-ugly gstreamer1.0-plugins-bad gstreamer1.0-libav ffmpeg";

const READY_TIMEOUT: Duration = Duration::from_secs(20);
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// Simulator configuration (maps 1:1 to camsim.py options).
#[derive(Clone, Debug)]
pub struct CamsimOptions {
    pub cameras: usize,
    /// "h264" or "h265".
    pub codec: String,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub bitrate_kbps: u32,
    /// Key frame interval in frames.
    pub gop: u32,
    pub bframes: u32,
    pub sub_streams: bool,
    pub auth: Option<(String, String)>,
    pub timecode: bool,
    /// Serve this Annex-B clip on every camera without re-encoding (see [`Camsim::make_clip`]).
    pub loop_file: Option<PathBuf>,
    /// Misbehaviours of the main streams (camsim `--quirk`, e.g. `fmtp-semicolon`,
    /// `sdp-only-params`, `midfrag`, `loss=0.01`, `ts-jump=3600@8`, `no-rtcp`, `audio-first`).
    pub quirks: Vec<String>,
    /// Allowed RTP lower transports: "tcp", "udp" or "both" (default).
    pub transport: Option<String>,
}

impl Default for CamsimOptions {
    fn default() -> Self {
        CamsimOptions {
            cameras: 1,
            codec: "h264".to_string(),
            width: 640,
            height: 360,
            fps: 15,
            bitrate_kbps: 500,
            gop: 30,
            bframes: 0,
            sub_streams: false,
            auth: None,
            timecode: true,
            loop_file: None,
            quirks: Vec::new(),
            transport: None,
        }
    }
}

impl CamsimOptions {
    /// Command-line arguments for camsim.py (without `--port`).
    pub fn to_args(&self) -> Vec<String> {
        let mut a: Vec<String> = vec![
            "--cameras".into(),
            self.cameras.to_string(),
            "--codec".into(),
            self.codec.clone(),
            "--width".into(),
            self.width.to_string(),
            "--height".into(),
            self.height.to_string(),
            "--fps".into(),
            self.fps.to_string(),
            "--bitrate".into(),
            self.bitrate_kbps.to_string(),
            "--gop".into(),
            self.gop.to_string(),
            "--bframes".into(),
            self.bframes.to_string(),
        ];
        if self.sub_streams {
            a.push("--sub".into());
        }
        if let Some((u, p)) = &self.auth {
            a.push("--auth".into());
            a.push(format!("{u}:{p}"));
        }
        if !self.timecode {
            a.push("--no-timecode".into());
        }
        if let Some(f) = &self.loop_file {
            a.push("--loop".into());
            a.push(f.display().to_string());
        }
        for q in &self.quirks {
            a.push("--quirk".into());
            a.push(q.clone());
        }
        if let Some(t) = &self.transport {
            a.push("--transport".into());
            a.push(t.clone());
        }
        a
    }
}

/// A running camera simulator (child process). Dropping it stops the simulator.
pub struct Camsim {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    port: u16,
    _dir: tempfile::TempDir,
}

fn other(msg: String) -> std::io::Error {
    std::io::Error::other(msg)
}

/// Writes [`CAMSIM_PY`] into `dir` and returns the script path.
pub fn write_camsim_script(dir: &Path) -> std::io::Result<PathBuf> {
    let path = dir.join("camsim.py");
    std::fs::write(&path, CAMSIM_PY)?;
    Ok(path)
}

fn python_command() -> Command {
    let python = std::env::var("CUSTOS_CAMSIM_PYTHON").unwrap_or_else(|_| SYSTEM_PYTHON.into());
    let mut c = Command::new(python);
    c.env("PYENV_VERSION", "system")
        .env("PYTHONUNBUFFERED", "1");
    c
}

fn spawn_collector<R: Read + Send + 'static>(r: R, buf: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(r);
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let mut b = buf.lock().unwrap_or_else(|e| e.into_inner());
                    b.push_str(&line);
                    if b.len() > 256 * 1024 {
                        let cut = b.len() - 128 * 1024;
                        let cut = (cut..b.len()).find(|i| b.is_char_boundary(*i)).unwrap_or(0);
                        b.drain(..cut);
                    }
                }
            }
        }
    });
}

fn missing_bindings_hint(stderr: &str) -> &'static str {
    if stderr.contains("cannot import") || stderr.contains("No module named") {
        "the GStreamer python bindings are missing"
    } else {
        "the simulator failed"
    }
}

impl Camsim {
    /// Starts the simulator on a free loopback port and waits (up to 20 s) for `READY`.
    pub fn start(opts: &CamsimOptions) -> std::io::Result<Camsim> {
        let dir = tempfile::Builder::new().prefix("custos-camsim").tempdir()?;
        let script = write_camsim_script(dir.path())?;
        let mut cmd = python_command();
        cmd.arg(&script)
            .arg("--port")
            .arg("0")
            .args(opts.to_args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| {
            other(format!(
                "cannot run {SYSTEM_PYTHON} for the camera simulator: {e}; \
                 install: apt-get install -y python3 {CAMSIM_APT_PACKAGES}"
            ))
        })?;
        let stderr = Arc::new(Mutex::new(String::new()));
        spawn_collector(child.stderr.take().expect("piped stderr"), stderr.clone());
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut sim = Camsim {
            child,
            stdin,
            lines: rx,
            stderr,
            port: 0,
            _dir: dir,
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match sim.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix("READY ") {
                        let port = rest
                            .trim()
                            .trim_end_matches('/')
                            .rsplit(':')
                            .next()
                            .and_then(|p| p.parse::<u16>().ok())
                            .ok_or_else(|| other(format!("camsim: bad READY line {line:?}")))?;
                        sim.port = port;
                        return Ok(sim);
                    }
                }
                Err(e) => {
                    let what = match e {
                        RecvTimeoutError::Timeout => "did not print READY within 20 s",
                        RecvTimeoutError::Disconnected => "exited before READY",
                    };
                    let _ = sim.child.kill();
                    let status = sim.child.wait().ok();
                    std::thread::sleep(Duration::from_millis(100));
                    let err = sim.stderr_text();
                    return Err(other(format!(
                        "camera simulator {what} (status {status:?}); {}: \
                         install: apt-get install -y {CAMSIM_APT_PACKAGES}\n--- camsim stderr ---\n{err}",
                        missing_bindings_hint(&err)
                    )));
                }
            }
        }
    }

    /// The RTSP server port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `rtsp://127.0.0.1:PORT/` (with trailing slash).
    pub fn base_url(&self) -> String {
        format!("rtsp://127.0.0.1:{}/", self.port)
    }

    /// Main stream URL of camera `cam` (1-based).
    pub fn url(&self, cam: usize) -> String {
        format!("rtsp://127.0.0.1:{}/cam{cam}", self.port)
    }

    /// Sub stream URL of camera `cam` (1-based; needs `sub_streams`).
    pub fn sub_url(&self, cam: usize) -> String {
        format!("rtsp://127.0.0.1:{}/cam{cam}/sub", self.port)
    }

    /// Everything the simulator wrote to stderr so far (tail).
    pub fn stderr_text(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Sends one command line and waits for its `OK`/`ERR` answer.
    pub fn command(&mut self, line: &str) -> std::io::Result<String> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| other("camsim stdin closed".into()))?;
        stdin.write_all(format!("{line}\n").as_bytes())?;
        stdin.flush()?;
        let deadline = Instant::now() + COMMAND_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(answer) if answer.starts_with("OK") => return Ok(answer),
                Ok(answer) if answer.starts_with("ERR") => {
                    return Err(other(format!("camsim {line:?}: {answer}")));
                }
                Ok(_) => continue,
                Err(e) => {
                    return Err(other(format!(
                        "camsim {line:?}: no answer ({e:?})\n--- camsim stderr ---\n{}",
                        self.stderr_text()
                    )));
                }
            }
        }
    }

    /// Closes every session of camera `cam` (main and sub) and refuses new ones.
    pub fn stop_camera(&mut self, cam: usize) -> std::io::Result<()> {
        self.command(&format!("stop cam{cam}")).map(drop)
    }

    /// Serves camera `cam` again after [`Camsim::stop_camera`].
    pub fn start_camera(&mut self, cam: usize) -> std::io::Result<()> {
        self.command(&format!("start cam{cam}")).map(drop)
    }

    /// Changes camera `cam`'s main picture size mid-stream (a new SPS and a key frame).
    pub fn resize_camera(&mut self, cam: usize, width: u32, height: u32) -> std::io::Result<()> {
        self.command(&format!("resize cam{cam} {width} {height}"))
            .map(drop)
    }

    /// Keeps the sessions of camera `cam` up but sends no frames for `secs` seconds.
    pub fn stall_camera(&mut self, cam: usize, secs: f64) -> std::io::Result<()> {
        self.command(&format!("stall cam{cam} {secs}")).map(drop)
    }

    /// Changes the picture content of camera `cam` ("camera moved").
    pub fn change_scene(&mut self, cam: usize) -> std::io::Result<()> {
        self.command(&format!("scene cam{cam}")).map(drop)
    }

    /// Encodes a `seconds`-long clip (rounded up to whole GOPs) as an Annex-B elementary
    /// stream at `path` (use a .h264 / .h265 extension), for [`CamsimOptions::loop_file`].
    pub fn make_clip(path: &Path, opts: &CamsimOptions, seconds: u32) -> std::io::Result<()> {
        require_tool("timeout");
        let dir = tempfile::Builder::new().prefix("custos-camsim").tempdir()?;
        let script = write_camsim_script(dir.path())?;
        let python = std::env::var("CUSTOS_CAMSIM_PYTHON").unwrap_or_else(|_| SYSTEM_PYTHON.into());
        let mut o = opts.clone();
        o.loop_file = None;
        let out = Command::new("timeout")
            .arg("600")
            .arg(python)
            .env("PYENV_VERSION", "system")
            .arg(&script)
            .args(o.to_args())
            .arg("--make-clip")
            .arg(path)
            .arg("--seconds")
            .arg(seconds.to_string())
            .stdin(Stdio::null())
            .output()?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            return Err(other(format!(
                "camsim --make-clip failed ({}); {}: install: apt-get install -y {CAMSIM_APT_PACKAGES}\n{err}",
                out.status,
                missing_bindings_hint(&err)
            )));
        }
        Ok(())
    }

    /// Process id of the simulator.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Camsim {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"quit\n");
            let _ = stdin.flush();
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => return,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => break,
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ------------------------------------------------------------------ external tools

fn apt_package_for(tool: &str) -> &'static str {
    match tool {
        "ffmpeg" | "ffprobe" => "ffmpeg",
        "gst-launch-1.0" | "gst-inspect-1.0" => "gstreamer1.0-tools",
        "timeout" => "coreutils",
        "python3" | "/usr/bin/python3" => "python3",
        _ => "the package providing it",
    }
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let p = Path::new(name);
    if p.is_absolute() {
        return p.is_file().then(|| p.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|c| c.is_file())
}

/// Panics with an install hint if `name` is not an executable on PATH. Never skips.
pub fn require_tool(name: &str) {
    if find_in_path(name).is_none() {
        panic!(
            "required tool {name:?} not found: install {} (apt-get install -y {})",
            name,
            apt_package_for(name)
        );
    }
}

/// Runs `timeout SECS program args...` and returns its output.
pub fn run_with_timeout(secs: u32, program: &str, args: &[&str]) -> std::io::Result<Output> {
    require_tool("timeout");
    require_tool(program);
    Command::new("timeout")
        .arg("-k")
        .arg("5")
        .arg(secs.to_string())
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// `ffprobe -show_format -show_streams -of json PATH`. Panics if ffprobe fails.
pub fn ffprobe_json(path: &Path) -> serde_json::Value {
    let out = run_with_timeout(
        60,
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_format",
            "-show_streams",
            "-of",
            "json",
            path_str(path),
        ],
    )
    .expect("run ffprobe");
    assert!(
        out.status.success(),
        "ffprobe {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("ffprobe json")
}

/// One decoded video frame, as reported by `ffprobe -show_frames`.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameInfo {
    /// Presentation time in seconds (best effort timestamp if pts is missing).
    pub pts_time: Option<f64>,
    /// "I", "P", "B", ...
    pub pict_type: String,
    pub key_frame: bool,
}

fn json_f64(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::String(s) => s.parse().ok(),
        serde_json::Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

/// Per video frame (first video stream, in presentation order as decoded): pts, type, key.
pub fn ffprobe_frames(path: &Path) -> Vec<FrameInfo> {
    let out = run_with_timeout(
        120,
        "ffprobe",
        &[
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "frame=pts_time,best_effort_timestamp_time,pict_type,key_frame",
            "-of",
            "json",
            path_str(path),
        ],
    )
    .expect("run ffprobe");
    assert!(
        out.status.success(),
        "ffprobe -show_frames {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ffprobe json");
    v["frames"]
        .as_array()
        .map(|frames| {
            frames
                .iter()
                .map(|f| FrameInfo {
                    pts_time: json_f64(&f["pts_time"])
                        .or_else(|| json_f64(&f["best_effort_timestamp_time"])),
                    pict_type: f["pict_type"].as_str().unwrap_or("?").to_string(),
                    key_frame: f["key_frame"].as_i64() == Some(1),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Output of `ffmpeg -v error -i PATH -enc_time_base -1 -f null -` (empty = decodes cleanly).
/// The null output keeps the file's own time base (90 kHz): at ffmpeg's default (the frame
/// rate) two frames closer than one frame interval would be reported as a muxer timestamp
/// complaint, which is not a decoding error.
pub fn ffmpeg_decode_errors(path: &Path) -> String {
    let out = run_with_timeout(
        120,
        "ffmpeg",
        &[
            "-nostdin",
            "-v",
            "error",
            "-i",
            path_str(path),
            "-enc_time_base",
            "-1",
            "-f",
            "null",
            "-",
        ],
    )
    .expect("run ffmpeg");
    let mut s = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() && s.is_empty() {
        s = format!("ffmpeg exited with {}", out.status);
    }
    s
}

/// Pulls `seconds` of `url` into `out` with `ffmpeg -c copy` (RTSP over TCP).
/// Returns ffmpeg's output; success means ffmpeg exited 0.
pub fn pull_rtsp(url: &str, seconds: f64, out: &Path) -> std::io::Result<Output> {
    let secs = format!("{seconds}");
    let limit = (seconds.ceil() as u32) + 20;
    run_with_timeout(
        limit,
        "ffmpeg",
        &[
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-rtsp_transport",
            "tcp",
            "-i",
            url,
            "-t",
            &secs,
            "-c",
            "copy",
            path_str(out),
        ],
    )
}

// ------------------------------------------------------------------ timecode

/// Cells per row of the timecode (see camsim.py's docstring).
pub const TIMECODE_CELLS_PER_ROW: usize = 30;

/// Cell size in pixels of the timecode for a picture `width` pixels wide.
pub fn timecode_cell_size(width: u32) -> u32 {
    let s = (width / 32).min(16);
    (s - s % 2).max(4)
}

fn timecode_check(t: u64) -> u64 {
    let sum: u64 = t.to_be_bytes()[2..].iter().map(|b| *b as u64).sum();
    (sum & 0xFF) ^ 0xA5
}

/// The two rows of cell bits (1 = white) for wall-clock time `t_ms`.
pub fn timecode_bits(t_ms: i64) -> [[u8; TIMECODE_CELLS_PER_ROW]; 2] {
    let t = (t_ms as u64) & ((1 << 48) - 1);
    let check = timecode_check(t);
    let mut rows = [[0u8; TIMECODE_CELLS_PER_ROW]; 2];
    rows[0][0] = 1;
    rows[1][1] = 1;
    for i in 0..24 {
        rows[0][2 + i] = ((t >> (47 - i)) & 1) as u8;
        rows[1][2 + i] = ((t >> (23 - i)) & 1) as u8;
    }
    for i in 0..4 {
        rows[0][26 + i] = ((check >> (7 - i)) & 1) as u8;
        rows[1][26 + i] = ((check >> (3 - i)) & 1) as u8;
    }
    rows
}

/// Reads the timecode from an 8-bit gray picture (`gray.len() >= width * 2S` rows used,
/// row stride = `width`). Returns None when markers or check bits do not match.
pub fn decode_timecode(gray: &[u8], width: u32, height: u32) -> Option<i64> {
    let w = width as usize;
    let s = timecode_cell_size(width) as usize;
    if w < TIMECODE_CELLS_PER_ROW * s || (height as usize) < 2 * s || gray.len() < w * 2 * s {
        return None;
    }
    let cell = |row: usize, c: usize| -> u8 {
        let (x0, y0) = (c * s + s / 4, row * s + s / 4);
        let n = (s / 2).max(1);
        let mut sum = 0u32;
        for y in y0..y0 + n {
            for x in x0..x0 + n {
                sum += gray[y * w + x] as u32;
            }
        }
        u8::from(sum / (n * n) as u32 >= 128)
    };
    let mut rows = [[0u8; TIMECODE_CELLS_PER_ROW]; 2];
    for (r, row) in rows.iter_mut().enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            *v = cell(r, c);
        }
    }
    if rows[0][..2] != [1, 0] || rows[1][..2] != [0, 1] {
        return None;
    }
    let mut t: u64 = 0;
    for i in 0..24 {
        t = (t << 1) | rows[0][2 + i] as u64;
    }
    for i in 0..24 {
        t = (t << 1) | rows[1][2 + i] as u64;
    }
    let mut check: u64 = 0;
    for i in 0..4 {
        check = (check << 1) | rows[0][26 + i] as u64;
    }
    for i in 0..4 {
        check = (check << 1) | rows[1][26 + i] as u64;
    }
    (check == timecode_check(t)).then_some(t as i64)
}

fn video_size(path: &Path) -> Option<(u32, u32)> {
    let v = ffprobe_json(path);
    let st = v["streams"]
        .as_array()?
        .iter()
        .find(|s| s["codec_type"] == "video")?;
    Some((st["width"].as_u64()? as u32, st["height"].as_u64()? as u32))
}

fn decode_code_strips(path: &Path, select: Option<usize>) -> Vec<Option<i64>> {
    let Some((w, h)) = video_size(path) else {
        return Vec::new();
    };
    let s = timecode_cell_size(w);
    let strip_h = (2 * s).min(h);
    let mut vf = String::new();
    if let Some(n) = select {
        vf.push_str(&format!("select=eq(n\\,{n}),"));
    }
    vf.push_str(&format!("crop={w}:{strip_h}:0:0"));
    let mut args = vec!["-nostdin", "-v", "error", "-i", path_str(path), "-vf", &vf];
    if select.is_some() {
        args.extend(["-frames:v", "1"]);
    }
    args.extend(["-vsync", "0", "-f", "rawvideo", "-pix_fmt", "gray", "-"]);
    let out = run_with_timeout(120, "ffmpeg", &args).expect("run ffmpeg");
    if !out.status.success() {
        eprintln!(
            "custos-testkit: ffmpeg decode of {} failed: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        return Vec::new();
    }
    let frame_len = (w * strip_h) as usize;
    out.stdout
        .chunks_exact(frame_len)
        .map(|f| decode_timecode(f, w, strip_h))
        .collect()
}

/// Decodes frame `frame_index` (0-based, decode output order) of `path` and reads the
/// simulator's timecode (Unix ms). None if there is no such frame or no valid code.
pub fn read_timecode_ms(path: &Path, frame_index: usize) -> Option<i64> {
    decode_code_strips(path, Some(frame_index))
        .into_iter()
        .next()
        .flatten()
}

/// Timecodes of every frame of `path` (one decode pass).
pub fn read_all_timecodes_ms(path: &Path) -> Vec<Option<i64>> {
    decode_code_strips(path, None)
}

/// Current wall-clock time in Unix milliseconds.
pub fn now_unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `FS_IMMUTABLE_FL` (`chattr +i`, custos sets it on sealed segments where it can) and
/// `FS_APPEND_FL` (`chattr +a`, on the ledger's log files): custos' one definition.
pub use custos_ledger::fsflags::{FS_APPEND_FL, FS_IMMUTABLE_FL};

/// The inode flags of `path` (`FS_IOC_GETFLAGS`, what `lsattr` shows).
pub fn fs_flags(path: &Path) -> std::io::Result<i32> {
    custos_ledger::fsflags::of_path(path)
}

/// Sets the inode flags of `path` (`FS_IOC_SETFLAGS`).
pub fn set_fs_flags(path: &Path, flags: i32) -> std::io::Result<()> {
    custos_ledger::fsflags::set_path(path, flags)
}

/// For tests only: clears custos' protection flags (`FS_IMMUTABLE_FL`, `FS_APPEND_FL`) of
/// `path` and, if it is a directory, of everything below it (symlinks are not followed), so a
/// test can tamper with sealed files on purpose and its temporary directory can be removed.
/// Returns how many files had a flag cleared. Files whose flags cannot be read (filesystem
/// without them) are skipped; a flag that is set but cannot be cleared is an error.
pub fn unprotect_tree(path: &Path) -> std::io::Result<usize> {
    let md = std::fs::symlink_metadata(path)?;
    let mut n = 0;
    if (md.is_dir() || md.is_file())
        && let Ok(fl) = fs_flags(path)
        && fl & (FS_IMMUTABLE_FL | FS_APPEND_FL) != 0
    {
        set_fs_flags(path, fl & !(FS_IMMUTABLE_FL | FS_APPEND_FL))?;
        n += 1;
    }
    if md.is_dir() {
        for e in std::fs::read_dir(path)? {
            n += unprotect_tree(&e?.path())?;
        }
    }
    Ok(n)
}

/// A temporary directory for tests that run custos in it: on drop, custos' protection flags
/// are cleared ([`unprotect_tree`]) before the directory is removed, which `tempfile::TempDir`
/// alone cannot do (it silently leaves immutable files behind when run as root).
pub struct ProtectedTempDir(Option<tempfile::TempDir>);

impl ProtectedTempDir {
    /// A new directory under the system temporary directory.
    pub fn new() -> std::io::Result<ProtectedTempDir> {
        Ok(ProtectedTempDir(Some(
            tempfile::Builder::new().prefix("custos-test").tempdir()?,
        )))
    }

    pub fn path(&self) -> &Path {
        self.0.as_ref().expect("present until dropped").path()
    }
}

impl Drop for ProtectedTempDir {
    fn drop(&mut self) {
        let Some(d) = self.0.take() else { return };
        let p = d.path().to_path_buf();
        if let Err(e) = unprotect_tree(&p) {
            eprintln!(
                "warning: clearing protection flags under {}: {e}",
                p.display()
            );
        }
        if let Err(e) = d.close() {
            eprintln!("warning: removing {}: {e}", p.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(t_ms: i64, width: u32, height: u32) -> Vec<u8> {
        let s = timecode_cell_size(width) as usize;
        let w = width as usize;
        let mut img = vec![90u8; w * height as usize];
        for (r, row) in timecode_bits(t_ms).iter().enumerate() {
            for (c, bit) in row.iter().enumerate() {
                for y in r * s..(r + 1) * s {
                    for x in c * s..(c + 1) * s {
                        img[y * w + x] = if *bit == 1 { 235 } else { 16 };
                    }
                }
            }
        }
        img
    }

    #[test]
    fn timecode_roundtrips_at_common_sizes() {
        for (w, h) in [(320, 180), (640, 360), (1280, 720), (1920, 1080)] {
            for t in [0i64, 1, 1_795_758_304_796, (1 << 48) - 1] {
                assert_eq!(
                    decode_timecode(&render(t, w, h), w, h),
                    Some(t),
                    "{w}x{h} {t}"
                );
            }
        }
    }

    #[test]
    fn timecode_rejects_pictures_without_a_code() {
        let img = vec![128u8; 640 * 360];
        assert_eq!(decode_timecode(&img, 640, 360), None);
        let mut img = render(1_700_000_000_000, 640, 360);
        // flip one data cell: the check bits must catch it
        let s = timecode_cell_size(640) as usize;
        for y in 0..s {
            for x in 5 * s..6 * s {
                img[y * 640 + x] = 255 - img[y * 640 + x];
            }
        }
        assert_eq!(decode_timecode(&img, 640, 360), None);
    }

    #[test]
    fn cell_size_matches_documented_formula() {
        assert_eq!(timecode_cell_size(320), 10);
        assert_eq!(timecode_cell_size(640), 16);
        assert_eq!(timecode_cell_size(1920), 16);
        assert_eq!(timecode_cell_size(160), 4);
    }

    #[test]
    fn default_options_match_the_documented_defaults() {
        let o = CamsimOptions::default();
        assert_eq!((o.cameras, o.width, o.height, o.fps), (1, 640, 360, 15));
        assert_eq!((o.gop, o.bframes, o.bitrate_kbps), (30, 0, 500));
        assert!(o.timecode && !o.sub_streams && o.auth.is_none());
    }
}
