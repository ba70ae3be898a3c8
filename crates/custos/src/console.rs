//! The web console compiled into the binary (`build.rs` points rust-embed at `web/dist`), and
//! the choice between it and a development directory (`--web DIR` / `CUSTOS_WEB_DIR`).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use custos_core::{Error, ErrorKind};
use custos_server::Console;
use custos_server::console::{ConsoleFile, ConsoleFiles};

#[derive(rust_embed::RustEmbed)]
#[folder = "$CUSTOS_CONSOLE_DIR"]
struct Dist;

struct Embedded;

impl ConsoleFiles for Embedded {
    fn get(&self, path: &str) -> Option<ConsoleFile> {
        let f = Dist::get(path)?;
        Some(ConsoleFile {
            content_type: f.metadata.mimetype().to_owned(),
            etag: hex::encode(f.metadata.sha256_hash()),
            bytes: f.data,
        })
    }
}

/// The console built into this binary, if it was built with `web/dist`.
pub fn embedded() -> Option<Console> {
    Dist::get("index.html").map(|_| Console::Embedded(Arc::new(Embedded)))
}

/// `--web DIR`, else `CUSTOS_WEB_DIR`, else the embedded console. A directory without
/// `index.html`, or no console at all, is an error: a console URL that serves nothing is
/// never printed.
pub fn choose(arg: Option<&PathBuf>) -> Result<Console> {
    let env = std::env::var_os("CUSTOS_WEB_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let (dir, from) = match (arg, env) {
        (Some(d), _) => (Some(d.clone()), "--web"),
        (None, Some(d)) => (Some(d), "CUSTOS_WEB_DIR"),
        (None, None) => (None, ""),
    };
    if let Some(d) = dir {
        if !d.join("index.html").is_file() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "{from} {}: no index.html there; point it at a built console (cd web && npm run build → web/dist) \
                     or drop {from} to serve the console built into this binary",
                    d.display()
                ),
            )
            .into());
        }
        return Ok(Console::Dir(d));
    }
    embedded().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidArgument,
            "this custos binary was built without its web console (web/dist was missing at build time): \
             run scripts/setup (it builds web/dist) and build again, or give --web DIR of a built console",
        )
        .into()
    })
}
