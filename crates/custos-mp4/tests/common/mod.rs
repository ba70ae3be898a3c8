//! Shared helpers of the integration tests: synthetic files, and real H.264 /
//! H.265 fixtures produced by ffmpeg (tests that need them are skipped, with a
//! note on stderr, when ffmpeg is not installed).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use custos_mp4::{
    FragmentSample, ParsedFile, parse_fragmented, write_fragment, write_init_segment,
};

/// A fake but well-formed `avc1` sample entry (the parser does not look inside).
pub fn fake_entry() -> Vec<u8> {
    let mut e = vec![0, 0, 0, 24];
    e.extend_from_slice(b"avc1");
    e.extend_from_slice(&[7; 16]);
    e
}

/// A fragmented file from our writer: `gops` fragments of 10 samples, B-frame-like offsets.
pub fn synthetic_fragmented(gops: usize) -> Vec<u8> {
    let mut out = Vec::new();
    write_init_segment(&mut out, &fake_entry(), 640, 480, 90_000).unwrap();
    let data: Vec<Vec<u8>> = (0..10).map(|i| vec![i as u8; 50 + i * 13]).collect();
    for g in 0..gops {
        let samples: Vec<FragmentSample> = data
            .iter()
            .enumerate()
            .map(|(i, d)| FragmentSample {
                duration: 3000,
                composition_offset: if i % 3 == 2 { -3000 } else { 3000 },
                is_sync: i == 0,
                data: d,
            })
            .collect();
        write_fragment(&mut out, g as u32 + 1, g as u64 * 30_000, &samples).unwrap();
    }
    out
}

pub fn have_ffmpeg() -> bool {
    static HAVE: OnceLock<bool> = OnceLock::new();
    *HAVE.get_or_init(|| {
        let ok = |bin: &str| {
            Command::new("timeout")
                .args(["20", bin, "-version"])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        };
        ok("ffmpeg") && ok("ffprobe")
    })
}

/// ffmpeg/ffprobe are required: a missing tool fails the test, unless the run says
/// `CUSTOS_SKIP_FFMPEG=1` (never set in CI), in which case the test is skipped loudly.
pub fn skip_without_ffmpeg(test: &str) -> bool {
    if have_ffmpeg() {
        false
    } else {
        assert!(
            std::env::var_os("CUSTOS_SKIP_FFMPEG").is_some(),
            "{test} needs ffmpeg and ffprobe: apt-get install -y ffmpeg (or set CUSTOS_SKIP_FFMPEG=1 to skip)"
        );
        eprintln!("SKIPPED {test}: ffmpeg/ffprobe not installed and CUSTOS_SKIP_FFMPEG is set");
        true
    }
}

/// Runs a command under `timeout`, panicking with its stderr on failure; returns stdout.
pub fn run(bin: &str, args: &[&str]) -> String {
    let out = Command::new("timeout")
        .arg("120")
        .arg(bin)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {bin}: {e}"));
    assert!(
        out.status.success(),
        "{bin} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn fixture_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("custos-mp4-fixtures");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn generate(name: &str, args: &[&str]) -> PathBuf {
    let path = fixture_dir().join(name);
    if path.exists() {
        return path;
    }
    let tmp = fixture_dir().join(format!("{name}.{}.tmp.mp4", std::process::id()));
    let mut full: Vec<&str> = vec!["-v", "error", "-y"];
    full.extend_from_slice(args);
    full.extend_from_slice(&[
        "-f",
        "mp4",
        "-movflags",
        "+frag_keyframe+empty_moov",
        tmp.to_str().unwrap(),
    ]);
    run("ffmpeg", &full);
    std::fs::rename(&tmp, &path).unwrap();
    path
}

/// 4 s of 320x240 @ 15 fps H.264, GOP 15, 2 B-frames, fragmented by ffmpeg.
pub fn h264_fixture() -> PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        generate(
            "h264.mp4",
            &[
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=320x240:rate=15",
                "-t",
                "4",
                "-c:v",
                "libx264",
                "-g",
                "15",
                "-keyint_min",
                "15",
                "-sc_threshold",
                "0",
                "-bf",
                "2",
                "-pix_fmt",
                "yuv420p",
            ],
        )
    })
    .clone()
}

/// Like [`h264_fixture`] but another picture and encoder settings (other SPS/PPS).
pub fn h264_other_fixture() -> PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        generate(
            "h264-other.mp4",
            &[
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=320x240:rate=15",
                "-t",
                "4",
                "-c:v",
                "libx264",
                "-profile:v",
                "main",
                "-crf",
                "30",
                "-g",
                "15",
                "-keyint_min",
                "15",
                "-sc_threshold",
                "0",
                "-bf",
                "2",
                "-pix_fmt",
                "yuv420p",
            ],
        )
    })
    .clone()
}

/// 4 s of 320x240 @ 15 fps H.265 (`hvc1`), GOP 15, 2 B-frames, fragmented by ffmpeg.
pub fn h265_fixture() -> PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        generate(
            "h265.mp4",
            &[
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=320x240:rate=15",
                "-t",
                "4",
                "-c:v",
                "libx265",
                "-tag:v",
                "hvc1",
                "-x265-params",
                "keyint=15:min-keyint=15:scenecut=0:bframes=2:open-gop=0:log-level=error",
                "-pix_fmt",
                "yuv420p",
            ],
        )
    })
    .clone()
}

pub fn parse_file(path: &Path) -> (Vec<u8>, ParsedFile) {
    let data = std::fs::read(path).unwrap();
    let parsed = parse_fragmented(&data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (data, parsed)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub pts: i64,
    pub dts: i64,
    pub size: u64,
    pub key: bool,
}

/// ffprobe's packet list of the first video stream, timestamps in stream time_base ticks.
pub fn ffprobe_packets(path: &Path) -> Vec<Packet> {
    let out = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "packet=pts,dts,size,flags",
            "-of",
            "json",
            path.to_str().unwrap(),
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["packets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| Packet {
            pts: p["pts"].as_i64().unwrap(),
            dts: p["dts"].as_i64().unwrap(),
            size: p["size"].as_str().unwrap().parse().unwrap(),
            key: p["flags"].as_str().unwrap().contains('K'),
        })
        .collect()
}

/// `ffprobe -show_streams -show_format -count_frames` as JSON.
pub fn ffprobe_info(path: &Path) -> serde_json::Value {
    let out = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-count_frames",
            "-show_streams",
            "-show_format",
            "-of",
            "json",
            path.to_str().unwrap(),
        ],
    );
    serde_json::from_str(&out).unwrap()
}

/// Everything ffmpeg complains about while decoding the whole file (empty = clean).
pub fn decode_errors(path: &Path) -> String {
    let out = Command::new("timeout")
        .args([
            "120",
            "ffmpeg",
            "-v",
            "error",
            "-i",
            path.to_str().unwrap(),
            "-f",
            "null",
            "-",
        ])
        .output()
        .unwrap();
    let mut s = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        s.push_str(&format!("\nexit status {}", out.status));
    }
    s
}

/// MD5 of each decoded frame, in presentation order, with its pts in seconds.
pub fn frame_md5s(path: &Path) -> Vec<(f64, String)> {
    let out = run(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-i",
            path.to_str().unwrap(),
            "-map",
            "0:v:0",
            "-f",
            "framemd5",
            "-",
        ],
    );
    // Lines: "#tb 0: 1/90000" then "0, pts, dts, duration, size, md5".
    let mut tb = 1.0f64;
    let mut v = Vec::new();
    for line in out.lines() {
        if let Some(rest) = line.strip_prefix("#tb 0: ") {
            let (n, d) = rest.trim().split_once('/').unwrap();
            tb = n.parse::<f64>().unwrap() / d.parse::<f64>().unwrap();
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            let f: Vec<&str> = line.split(',').map(str::trim).collect();
            v.push((f[1].parse::<i64>().unwrap() as f64 * tb, f[5].to_string()));
        }
    }
    v
}
