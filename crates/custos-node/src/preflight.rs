//! Before recording starts: every configured camera probed once, so that a wrong URL or
//! password is said at once rather than found later as a gap.

use std::time::Duration;

use custos_core::camera::StreamKind;
use custos_core::{Error, ErrorKind, Result};
use custos_ingest::Source;

use crate::config::Config;

/// Probes every camera once (8 s each); `warn` is told of each failure. Fails when no camera
/// can be recorded, unless `keep_trying`.
pub async fn preflight(
    cfg: &Config,
    keep_trying: bool,
    mut warn: impl FnMut(&Error),
) -> Result<()> {
    let mut ok = 0;
    let mut first_err = None;
    for cam in &cfg.cameras {
        let src = Source {
            camera: cam.name.clone(),
            kind: StreamKind::Main,
            url: cam.url.clone(),
            username: cam.username.clone(),
            password: cam.password.clone(),
            transport: cam.transport,
        };
        match custos_ingest::probe(&src, Duration::from_secs(8)).await {
            Ok(_) => ok += 1,
            Err(e) => {
                warn(&e);
                first_err.get_or_insert(e);
            }
        }
    }
    if ok == 0 && !keep_trying {
        let Some(e) = first_err else {
            return Ok(());
        };
        if cfg.cameras.len() == 1 {
            return Err(e);
        }
        return Err(Error::new(
            ErrorKind::Unavailable,
            format!("no camera answered ({e}); fix the config or start with --keep-trying"),
        ));
    }
    Ok(())
}
