//! The `custos` command over the library crates: it parses arguments, calls the libraries,
//! prints tables and turns error kinds into exit codes; no domain logic lives here. The
//! libraries: `custos-node` runs demo, record and serve (configuration, runtime, server start,
//! GB/T 28181 glue, the stop loop); recording and reading footage in `custos-footage`; RTSP in
//! `custos-ingest`; the ledger behind `custos-journal`; accounts in `custos-auth`; the registry
//! in `custos-registry`; footage requests in `custos-requests`; HTTP in `custos-server`; GB/T
//! 28181 in `custos-gb28181`. The crate map is docs/architecture.md.

mod cmd;
mod config;
mod console;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use custos_core::ErrorKind;

#[derive(Parser)]
#[command(
    name = "custos",
    version,
    about = "Video management for public-safety video systems: records cameras 24/7, keeps footage for its legal minimum, gives any range back as MP4"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start simulated cameras and record them, with a live status table.
    Demo(cmd::demo::Args),
    /// Record the cameras of a TOML config until stopped (Ctrl-C / SIGTERM / --for).
    Record(cmd::record::Args),
    /// Record (with --config) and serve the web console, API, live view and playback over HTTPS.
    Serve(cmd::serve::Args),
    /// List a camera's segments and gaps.
    Recordings(cmd::recordings::Args),
    /// Export [from, to) of a camera as one MP4.
    Export(cmd::export::Args),
    /// A redacted copy of [from, to) of a camera: faces and plates masked (G1, G2), registered.
    #[cfg(feature = "redact")]
    Redact(cmd::redact::Args),
    /// Write an HLS (fMP4) playlist of [from, to) of a camera.
    Hls(cmd::export::HlsArgs),
    /// Health of every camera stream: state, fps, bitrate, gaps, completeness, alarms.
    Health(cmd::health::Args),
    /// Days of footage the disk holds at current bitrates, against each camera's minimum.
    Capacity(cmd::capacity::Args),
    /// Legal holds: place, release (two persons), list.
    Hold {
        #[command(subcommand)]
        cmd: cmd::hold::Cmd,
    },
    /// Check the ledger, every segment's hash, every index row against the ledger (read-only).
    Verify(cmd::verify::Args),
    /// Check an evidence bundle offline: signatures, ledger proofs, every file's hash (exit 7 on any problem).
    VerifyBundle(cmd::evidence::VerifyArgs),
    /// Footage requests of the authorities (H1–H5): create, attach, submit, approve, reject,
    /// release, close, show, list, form.
    Request {
        #[command(subcommand)]
        cmd: cmd::request::Cmd,
    },
    /// Accounts: add, list, disable, enable, passwd, unlock, token, totp.
    Users {
        #[command(subcommand)]
        cmd: cmd::users::Cmd,
    },
    /// Basic-information registry: load, import/export device lists, file documents.
    Registry {
        #[command(subcommand)]
        cmd: cmd::registry::Cmd,
    },
    /// Run the compliance rule scan and list the findings.
    Findings(cmd::compliance::FindingsArgs),
    /// Move a system through its lifecycle, with evidence documents.
    Lifecycle(cmd::compliance::LifecycleArgs),
    /// Printable compliance report (HTML or PDF) of a system or jurisdiction.
    Report(cmd::compliance::ReportArgs),
    /// Public catalogue of systems that must connect (no confidential field).
    Catalogue(cmd::compliance::CatalogueArgs),
    /// Complaints about the supervising agencies (append-only).
    Complaint {
        #[command(subcommand)]
        cmd: cmd::compliance::ComplaintCmd,
    },
    /// Report suspicious information seen on a camera: bookmark, hold, notify the police.
    ReportSuspicious(cmd::compliance::SuspiciousArgs),
    /// Inspections: checklists, answers, rectification orders.
    Inspect {
        #[command(subcommand)]
        cmd: cmd::compliance::InspectCmd,
    },
    /// GB/T 28181: registered devices and channels.
    #[cfg(feature = "gb28181")]
    Gb {
        #[command(subcommand)]
        cmd: cmd::gb::Cmd,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        which: cmd::bench::Which,
    },
}

fn exit_code(e: &anyhow::Error) -> u8 {
    let kind = e
        .chain()
        .find_map(|c| c.downcast_ref::<custos_core::Error>())
        .map(|e| e.kind());
    match kind {
        Some(ErrorKind::InvalidArgument) => 2,
        Some(ErrorKind::NotFound) => 3,
        Some(ErrorKind::Unauthenticated) | Some(ErrorKind::PermissionDenied) => 4,
        Some(ErrorKind::Unavailable) | Some(ErrorKind::Protocol) => 5,
        Some(ErrorKind::ResourceExhausted) => 6,
        Some(ErrorKind::DataLoss) => 7,
        _ => 1,
    }
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // Kept so that a config file fills only the options the command line did not give.
    config::set_matches(matches);
    let filter = tracing_subscriber::EnvFilter::try_from_env("CUSTOS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // CUSTOS_LOG_FORMAT=json: one JSON object per line, for log collectors.
    let sub = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("CUSTOS_LOG_FORMAT").is_ok_and(|v| v == "json") {
        sub.json().init();
    } else {
        sub.init();
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let r = rt.block_on(async {
        match cli.cmd {
            Cmd::Demo(a) => cmd::demo::run(a).await,
            Cmd::Record(a) => cmd::record::run(a).await,
            Cmd::Serve(a) => cmd::serve::run(a).await,
            Cmd::Recordings(a) => cmd::recordings::run(a).await,
            Cmd::Export(a) => cmd::export::run(a).await,
            #[cfg(feature = "redact")]
            Cmd::Redact(a) => cmd::redact::run(a).await,
            Cmd::Hls(a) => cmd::export::run_hls(a).await,
            Cmd::Health(a) => cmd::health::run(a).await,
            Cmd::Capacity(a) => cmd::capacity::run(a).await,
            Cmd::Verify(a) => cmd::verify::run(a).await,
            Cmd::VerifyBundle(a) => cmd::evidence::run_verify(a).await,
            Cmd::Hold { cmd } => cmd::hold::run(cmd).await,
            Cmd::Request { cmd } => cmd::request::run(cmd).await,
            Cmd::Users { cmd } => cmd::users::run(cmd).await,
            Cmd::Registry { cmd } => cmd::registry::run(cmd).await,
            Cmd::Findings(a) => cmd::compliance::findings(a).await,
            Cmd::Lifecycle(a) => cmd::compliance::lifecycle_cmd(a).await,
            Cmd::Report(a) => cmd::compliance::report_cmd(a).await,
            Cmd::Catalogue(a) => cmd::compliance::catalogue(a).await,
            Cmd::Complaint { cmd } => cmd::compliance::complaint_cmd(cmd).await,
            Cmd::ReportSuspicious(a) => cmd::compliance::suspicious_cmd(a).await,
            Cmd::Inspect { cmd } => cmd::compliance::inspect_cmd(cmd).await,
            Cmd::Bench { which } => cmd::bench::run(which).await,
            #[cfg(feature = "gb28181")]
            Cmd::Gb { cmd } => cmd::gb::run(cmd).await,
        }
    });
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: each cause once (custos errors already include their source).
            let mut msg = String::new();
            for cause in e.chain() {
                let c = cause.to_string();
                if !msg.contains(&c) {
                    if !msg.is_empty() {
                        msg.push_str(": ");
                    }
                    msg.push_str(&c);
                }
            }
            let mut msg = msg.replace('\n', " ");
            if exit_code(&e) == 6 && !msg.contains("free") {
                msg.push_str("; free disk space or use another --data directory");
            }
            eprintln!("error: {msg}");
            ExitCode::from(exit_code(&e))
        }
    }
}

/// `--data DIR`, default `./custos-data`.
pub fn default_data() -> PathBuf {
    PathBuf::from("custos-data")
}
