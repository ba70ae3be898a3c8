//! One module per subcommand.

pub mod bench;
pub mod bench_compliance;
#[cfg(feature = "gb28181")]
pub mod bench_gb;
pub mod bench_ledger;
#[cfg(feature = "redact")]
pub mod bench_redact;
pub mod bench_serve;
pub mod capacity;
pub mod compliance;
pub mod demo;
pub mod evidence;
pub mod export;
#[cfg(feature = "gb28181")]
pub mod gb;
#[cfg(not(feature = "gb28181"))]
#[path = "gb_off.rs"]
pub mod gb;
pub mod health;
pub mod hold;
pub mod record;
pub mod recordings;
#[cfg(feature = "redact")]
pub mod redact;
pub mod registry;
pub mod request;
pub mod serve;
pub mod users;
pub mod verify;

use anyhow::Result;
use custos_core::camera::StreamKind;
use custos_footage::DataDir;
use custos_store::{Camera, Store, Stream};

/// Opens an existing data directory's store.
pub async fn open(data: &std::path::Path) -> Result<(DataDir, Store)> {
    let d = DataDir::open_existing(data)?;
    let s = Store::open_sqlite(&d.db_path()).await?;
    Ok((d, s))
}

pub async fn camera_stream(
    store: &Store,
    name: &str,
    kind: StreamKind,
) -> Result<(Camera, Stream)> {
    let cam = store.camera_by_name_listing(name).await?;
    let stream = store.stream_of(&cam, kind).await?;
    Ok((cam, stream))
}

pub fn mib(bytes: f64) -> String {
    if bytes >= 1e9 {
        format!("{:.2} GB", bytes / 1e9)
    } else {
        format!("{:.1} MB", bytes / 1e6)
    }
}

pub fn kbps(bps: f64) -> String {
    format!("{:.0} kbit/s", bps / 1000.0)
}

pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s)
        .map_err(|e| format!("bad duration {s:?}: {e}; write e.g. 90s, 10m, 2h"))
}

pub fn parse_time(s: &str) -> Result<custos_core::Time90k, String> {
    custos_core::Time90k::parse_rfc3339(s).map_err(|e| e.to_string())
}
