//! `custos bench ingest --streams N --seconds S`: recorder CPU per stream-hour against
//! `ffmpeg -rtsp_transport tcp -i URL -c copy -f segment` on the same looped streams, in the
//! same run. Only the recorder's own process is measured (getrusage of the finished child), not
//! the simulator. The last line is the ratio (ours / ffmpeg's).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use custos_testkit::{Camsim, CamsimOptions};
use indicatif::{ProgressBar, ProgressStyle};
use nix::sys::resource::{UsageWho, getrusage};

#[derive(clap::Subcommand)]
pub enum Which {
    /// Ingest CPU and disk overhead against ffmpeg -c copy.
    Ingest(IngestArgs),
    /// Ledger appends, inclusion proofs and verification against raw I/O + hashing.
    Ledger(super::bench_ledger::LedgerArgs),
    /// Live first frame and playback first byte with N viewers, against a static file.
    Serve(super::bench_serve::Args),
    /// Full compliance rule scan of a generated registry against a plain SQL scan.
    Compliance(super::bench_compliance::ComplianceArgs),
    /// GB/T 28181: registrations/s, keepalives/s, PS demux throughput against memcpy.
    #[cfg(feature = "gb28181")]
    Gb28181(super::bench_gb::Args),
    /// Face redaction fps and recall on a 720p clip, against deface on the same clip.
    #[cfg(feature = "redact")]
    Redact(super::bench_redact::Args),
}

#[derive(clap::Args)]
pub struct IngestArgs {
    #[arg(long, default_value_t = 4)]
    pub streams: usize,
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    #[arg(long, default_value_t = 1920)]
    pub width: u32,
    #[arg(long, default_value_t = 1080)]
    pub height: u32,
    #[arg(long, default_value_t = 25)]
    pub fps: u32,
    #[arg(long, default_value_t = 4000)]
    pub bitrate_kbps: u32,
}

pub async fn run(w: Which) -> Result<()> {
    match w {
        Which::Ingest(a) => tokio::task::spawn_blocking(move || ingest(a)).await?,
        Which::Compliance(a) => super::bench_compliance::run(a).await,
        Which::Serve(a) => super::bench_serve::run(a).await,
        Which::Ledger(a) => {
            tokio::task::spawn_blocking(move || super::bench_ledger::run(a)).await?
        }
        #[cfg(feature = "gb28181")]
        Which::Gb28181(a) => super::bench_gb::run(a).await,
        #[cfg(feature = "redact")]
        Which::Redact(a) => {
            tokio::task::spawn_blocking(move || super::bench_redact::run(a)).await?
        }
    }
}

fn children_cpu() -> f64 {
    let u = getrusage(UsageWho::RUSAGE_CHILDREN).expect("getrusage");
    let t = |tv: nix::sys::time::TimeVal| tv.tv_sec() as f64 + tv.tv_usec() as f64 / 1e6;
    t(u.user_time()) + t(u.system_time())
}

fn wait_with_bar(label: &str, secs: u64) {
    let pb = ProgressBar::new(secs);
    pb.set_style(
        ProgressStyle::with_template("{msg:>18} [{bar:40}] {pos}/{len} s")
            .unwrap()
            .progress_chars("=> "),
    );
    pb.set_message(label.to_owned());
    for _ in 0..secs {
        std::thread::sleep(Duration::from_secs(1));
        pb.inc(1);
    }
    pb.finish_and_clear();
}

/// (file bytes, sample bytes) of the MP4 files under `dir`.
fn disk_bytes(dir: &Path) -> (u64, u64) {
    let mut files = 0u64;
    let mut samples = 0u64;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "mp4") {
                files += e.metadata().map(|m| m.len()).unwrap_or(0);
                if let Ok(mut f) = std::fs::File::open(&p)
                    && let Ok(parsed) = custos_mp4::parse_fragmented_reader(&mut f)
                {
                    samples += parsed
                        .fragments
                        .iter()
                        .flat_map(|f| &f.samples)
                        .map(|s| s.size as u64)
                        .sum::<u64>();
                }
            }
        }
    }
    (files, samples)
}

fn ingest(a: IngestArgs) -> Result<()> {
    if a.streams == 0 || a.seconds < 5 {
        bail!("use --streams >= 1 and --seconds >= 5");
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("custos");
    std::fs::create_dir_all(&cache)?;
    let clip = cache.join(format!(
        "bench-{}x{}-{}fps-{}k.h264",
        a.width, a.height, a.fps, a.bitrate_kbps
    ));
    let mut opts = CamsimOptions {
        cameras: a.streams,
        width: a.width,
        height: a.height,
        fps: a.fps,
        bitrate_kbps: a.bitrate_kbps,
        gop: a.fps * 2,
        timecode: false,
        ..Default::default()
    };
    if !clip.exists() {
        eprintln!(
            "encoding a 10 s {}x{} clip once into {} …",
            a.width,
            a.height,
            clip.display()
        );
        Camsim::make_clip(&clip, &opts, 10).context("making the benchmark clip")?;
    }
    opts.loop_file = Some(clip.clone());
    let sim = Camsim::start(&opts).context("starting the camera simulator in loop mode")?;
    // The recorder makes sealed segments immutable when run as root; this dir clears that on drop.
    let tmp = custos_testkit::ProtectedTempDir::new()?;
    let cfg_path = tmp.path().join("bench.toml");
    let mut cfg = String::new();
    for i in 1..=a.streams {
        cfg.push_str(&format!(
            "[[camera]]\nname = \"bench{i}\"\nurl = \"{}\"\n\n",
            sim.url(i)
        ));
    }
    std::fs::write(&cfg_path, cfg)?;
    let ours_dir = tmp.path().join("custos");
    let exe = std::env::current_exe()?;

    // Ours.
    let before = children_cpu();
    let mut child = Command::new(&exe)
        .args(["record", "--data"])
        .arg(&ours_dir)
        .arg("--config")
        .arg(&cfg_path)
        .arg("--for")
        .arg(format!("{}s", a.seconds))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    wait_with_bar("custos record", a.seconds);
    let st = child.wait()?;
    let ours_cpu = children_cpu() - before;
    if !st.success() {
        bail!("custos record exited with {st}");
    }

    // Baseline: ffmpeg -c copy into 60 s segments.
    let ff_dir = tmp.path().join("ffmpeg");
    std::fs::create_dir_all(&ff_dir)?;
    let before = children_cpu();
    let mut kids = Vec::new();
    for i in 1..=a.streams {
        kids.push(
            Command::new("ffmpeg")
                .args([
                    "-nostdin",
                    "-loglevel",
                    "error",
                    "-rtsp_transport",
                    "tcp",
                    "-i",
                    &sim.url(i),
                ])
                .args([
                    "-c",
                    "copy",
                    "-f",
                    "segment",
                    "-segment_time",
                    "60",
                    "-reset_timestamps",
                    "1",
                ])
                .arg(ff_dir.join(format!("s{i}-%03d.mp4")))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("running ffmpeg (apt-get install ffmpeg)")?,
        );
    }
    wait_with_bar("ffmpeg -c copy", a.seconds);
    for k in &kids {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(k.id() as i32),
            nix::sys::signal::Signal::SIGINT,
        );
    }
    for mut k in kids {
        let _ = k.wait();
    }
    let ff_cpu = children_cpu() - before;
    drop(sim);

    let hours = a.streams as f64 * a.seconds as f64 / 3600.0;
    let (ours_files, ours_samples) = disk_bytes(&ours_dir);
    let (ff_files, ff_samples) = disk_bytes(&ff_dir);
    let pct = |f: u64, s: u64| {
        if s > 0 {
            (f as f64 / s as f64 - 1.0) * 100.0
        } else {
            f64::NAN
        }
    };
    println!(
        "streams: {} × {}x{}@{} {} kbit/s looped, {} s each",
        a.streams, a.width, a.height, a.fps, a.bitrate_kbps, a.seconds
    );
    println!(
        "custos record:  {:.1} CPU-s per stream-hour ({ours_cpu:.2} CPU-s total)",
        ours_cpu / hours
    );
    println!(
        "ffmpeg -c copy: {:.1} CPU-s per stream-hour ({ff_cpu:.2} CPU-s total)",
        ff_cpu / hours
    );
    println!(
        "disk: custos {} bytes, {:+.2}% over the stream's own bytes; ffmpeg {} bytes ({:+.2}% over its fragments' samples)",
        ours_files,
        pct(ours_files, ours_samples),
        ff_files,
        pct(ff_files, ff_samples)
    );
    if ff_cpu <= 0.0 {
        bail!("ffmpeg used no CPU; is it installed?");
    }
    println!("ratio {:.2}", ours_cpu / ff_cpu);
    Ok(())
}
